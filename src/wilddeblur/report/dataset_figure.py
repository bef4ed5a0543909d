"""Dataset statistics from selection.csv: the counts the report quotes, and their figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from wilddeblur.report.networks import blur_column
from wilddeblur.report.plotting import SPLIT_COLORS, Figure, plt, save_figure


def _bool(series: pd.Series) -> pd.Series:
    if series.dtype == bool:
        return series
    return series.astype(str).str.lower().isin({"true", "1"})


def selection_stats(selection: pd.DataFrame) -> dict:
    """Counts the dataset figure and its caption quote, from selection.csv; the blur sizes are
    those of ``blur_measure`` (:func:`wilddeblur.report.networks.blur_column`)."""
    col = blur_column(selection)[0]
    sel = selection.copy()
    sel["kept"] = _bool(sel["kept"])
    sel["reason"] = sel["reason"].fillna("").astype(str)
    kept = sel[sel["kept"]]
    return {
        "videos": int(sel["video"].nunique()), "windows": len(sel), "kept": len(kept),
        "kept_fraction": float(len(kept) / len(sel)) if len(sel) else float("nan"),
        "rejected": {r: int(c) for r, c in sel.loc[~sel["kept"], "reason"].value_counts()
                     .sort_index().items()},
        "kept_by_split": {s: int(c) for s, c in kept.groupby("split").size().items()},
        "ne_mean_kept": float(kept["ne"].mean()) if len(kept) else float("nan"),
        "blur_measure": col,
        "blur_size_median_kept": float(kept[col].median()) if len(kept) else float("nan"),
        "blur_size_max_kept": float(kept[col].max()) if len(kept) else float("nan"),
    }


def dataset_figure(selection: pd.DataFrame, out: Path, max_bars: int = 40) -> Figure:
    """Four panels from selection.csv: kept fraction per video, Ne of kept windows, blur size
    of kept and rejected windows, and the rejection reasons, by split."""
    sel = selection.copy()
    sel["kept"] = _bool(sel["kept"])
    sel["reason"] = sel["reason"].fillna("").astype(str)
    if "split" not in sel:
        sel["split"] = "all"
    splits = sorted(sel["split"].unique(), key=lambda s: (s != "train", s))
    color = {s: SPLIT_COLORS.get(s, f"C{2 + i}") for i, s in enumerate(splits)}
    stats = selection_stats(sel)
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))

    ax = axes[0, 0]
    per_video = sel.groupby("video").agg(split=("split", "first"), windows=("kept", "size"),
                                         kept=("kept", "sum")).reset_index()
    per_video["fraction"] = per_video["kept"] / per_video["windows"]
    if len(per_video) <= max_bars:
        per_video = per_video.sort_values(["split", "video"], ascending=[False, False])
        ypos = np.arange(len(per_video))
        ax.barh(ypos, per_video["fraction"], color=[color[s] for s in per_video["split"]])
        ax.set_yticks(ypos, per_video["video"], fontsize=8 if len(per_video) < 20 else 6)
        for yy, (k, n, fr) in enumerate(zip(per_video["kept"], per_video["windows"],
                                            per_video["fraction"], strict=True)):
            ax.text(fr + 0.01, yy, f"{k}/{n}", va="center", fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_xlabel("kept fraction of candidate windows")
    else:
        ax.hist([per_video.loc[per_video["split"] == s, "fraction"] for s in splits], bins=20,
                range=(0, 1), stacked=True, color=[color[s] for s in splits], label=splits)
        ax.set_xlabel("kept fraction of candidate windows")
        ax.set_ylabel("videos")
    ax.set_title(f"(a) kept windows per video ({stats['kept']}/{stats['windows']} = "
                 f"{stats['kept_fraction']:.0%} overall)", fontsize=10)

    ax = axes[0, 1]
    kept = sel[sel["kept"]]
    lo = int(sel["ne"].min()) if len(sel) else 7
    hi = int(sel["ne"].max()) if len(sel) else 23
    bins = np.arange(lo - 1, hi + 2, 2)
    ax.hist([kept.loc[kept["split"] == s, "ne"] for s in splits], bins=bins, stacked=True,
            color=[color[s] for s in splits], label=splits, rwidth=0.85)
    ax.set_xticks(np.arange(lo, hi + 1, 2))
    ax.set_xlabel("Ne (frames averaged)")
    ax.set_ylabel("kept windows")
    ax.set_title(f"(b) Ne of kept windows (mean {stats['ne_mean_kept']:.1f})", fontsize=10)

    ax = axes[1, 0]
    col = stats["blur_measure"]
    finite = sel[col].replace([np.inf, -np.inf], np.nan).dropna()
    edges = np.linspace(0, max(float(finite.max()) if len(finite) else 1.0, 1e-6), 31)
    ax.hist([kept.loc[kept["split"] == s, col] for s in splits], bins=edges,
            stacked=True, color=[color[s] for s in splits], label=[f"kept, {s}" for s in splits])
    rejected = sel.loc[~sel["kept"], col]
    unknown = int(rejected.isna().sum())  # windows holding pairs whose flow was skipped
    if rejected.notna().any():
        ax.hist(rejected.dropna(), bins=edges, histtype="step", color="0.3", lw=1.2,
                label="rejected")
    ax.set_xlabel("blur size (px, downsampled): " + (
        "region-flow path over the window" if col == "blur_region"
        else "mean-flow path length over the window"))
    ax.set_ylabel("windows")
    what = "blur of the moving part" if col == "blur_region" else "blur size"
    ax.set_title(f"(c) {what} (kept: median {stats['blur_size_median_kept']:.1f} px)",
                 fontsize=10)
    ax.legend(fontsize=8)

    ax = axes[1, 1]
    outcome = sel["reason"].where(~sel["kept"], "kept").replace("", "rejected")
    outcome = outcome.map(lambda r: r if r == "kept" else f"rejected: {r}")
    counts = pd.crosstab(outcome, sel["split"]).reindex(columns=splits, fill_value=0)
    counts = counts.reindex(sorted(counts.index, key=lambda r: (r != "kept", r)))
    xpos = np.arange(len(counts))
    width = 0.8 / len(splits)
    for k, s in enumerate(splits):
        bars = ax.bar(xpos + (k - (len(splits) - 1) / 2) * width, counts[s], width,
                      color=color[s], label=s)
        ax.bar_label(bars, fontsize=8)
    ax.set_xticks(xpos, counts.index, fontsize=9)
    ax.set_ylabel("candidate windows")
    ax.set_title("(d) outcome of the flow and matching-error checks", fontsize=10)
    ax.legend(fontsize=8)
    ax.margins(y=0.12)

    handles = [plt.Rectangle((0, 0), 1, 1, color=color[s]) for s in splits]
    fig.legend(handles, splits, loc="upper right", fontsize=9, title="split")
    fig.tight_layout(rect=(0, 0, 0.94, 1))
    path = save_figure(fig, out)
    rej = ", ".join(f"{c} for {r or 'unstated reasons'}" for r, c in stats["rejected"].items())
    caption = (f"Dataset statistics from the selection table: {stats['windows']} candidate "
               f"windows in {stats['videos']} videos, {stats['kept']} kept "
               f"({stats['kept_fraction']:.0%}; "
               + ", ".join(f"{c} {s}" for s, c in stats["kept_by_split"].items())
               + f"), rejected: {rej or 'none'}. (a) kept fraction per video; (b) Ne of the "
               f"kept windows; (c) blur size (`{col}`) of kept and rejected windows"
               + (f" (less {unknown} rejected windows holding pairs whose flow was skipped)"
                  if unknown else "")
               + "; (d) outcomes by split.")
    return Figure(path, caption, stats)
