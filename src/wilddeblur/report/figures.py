"""The paper's figures, as PNG files: Fig. 2 (a WILD pair), Figs. 9–10 (residual analysis) and
dataset statistics.

Fig. 9 (§4): for every test image, the L1 norm of DeblurNet's predicted residual against the
average blur size, both z-normalised, with their Pearson correlation. Conventions, where the
paper is silent:

* **Residual L1** = mean over pixels and channels of |s3 − g|, with g the blurry input and s3
  the network's full-scale output, both in [0, 1] and the output *not* clamped (it is the
  residual the network predicts, not the 8-bit image). A mean rather than a sum, so images of
  different sizes compare; after z-normalisation the two are the same on one image size.
* **Blur size** = the sample's ``blur_size`` (shard metadata; see :mod:`wilddeblur.dataset.select`):
  the sum over the window's consecutive pairs of the mean flow magnitude, i.e. the length in
  downsampled pixels of the average motion path the blurry image integrates: the paper's
  measure (the report's blurred groups use the moving part's ``blur_region`` instead,
  :func:`wilddeblur.report.networks.blur_column`).
* **z-score** = (x − mean) / std with the population std (ddof 0), so each column has mean 0
  and std 1 exactly; a constant column gets z = 0 and the correlation is undefined (NaN).

Every figure function writes one PNG (matplotlib's Agg backend) and returns a :class:`Figure`
holding its path, a one-paragraph caption with the numbers, and those numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib.patches import Rectangle

from wilddeblur.dataset.shards import META_COLUMNS, open_shard
from wilddeblur.evaluation.evaluate import evaluate
from wilddeblur.evaluation.inference import deblur_array
from wilddeblur.report.plotting import Figure, busiest_window, plt, save_figure


def shard_name(path: Path) -> str:
    """``{split}/shard-k.h5``: the ``file`` column of evaluate's table and of the manifest."""
    path = Path(path)
    return f"{path.parent.name}/{path.name}"


def shards_by_name(paths: Iterable[Path]) -> dict[str, Path]:
    """The given shard files by their :func:`shard_name`, as the tables name them."""
    return {shard_name(p): Path(p) for p in paths}


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def shard_metadata(shards: Sequence[Path]) -> pd.DataFrame:
    """One row per sample of ``shards``: file, index and the metadata columns (blur_size…)."""
    frames = []
    for path in shards:
        with open_shard(path) as f:
            meta = pd.DataFrame({c: f[c][()] for c in META_COLUMNS if c in f})
        meta["video"] = meta["video"].map(_text)
        meta.insert(0, "index", np.arange(len(meta)))
        meta.insert(0, "file", shard_name(path))
        frames.append(meta)
    if not frames:
        raise ValueError("no shard given")
    return pd.concat(frames, ignore_index=True)



# --------------------------------------------------------------------------- Figs. 9 and 10


def compute_residuals(model: torch.nn.Module, shards: Sequence[Path],
                      device: torch.device | str = "cpu", tile: int | None = None,
                      max_images: int | None = None) -> pd.DataFrame:
    """Run ``model`` on every sample of ``shards`` (in order, the first ``max_images``), through
    :func:`wilddeblur.evaluation.evaluate.evaluate`.

    Columns: file, index, video, center, ne, blur_size, residual_l1 (see the module docstring).
    ``tile`` as in :mod:`wilddeblur.evaluation.inference` (the cost: docs/benchmarks.md).
    """
    scored = evaluate(list(shards), "residuals", model, device, max_images=max_images, tile=tile)
    return with_blur_size(scored, shard_metadata(shards))


def with_blur_size(scored: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """Evaluate's per-image rows (residual_l1 …) joined with each sample's ne and blur_size."""
    out = scored[["file", "index", "video", "center", "residual_l1"]].merge(
        meta[["file", "index", "ne", "blur_size"]], on=["file", "index"], how="left",
        validate="one_to_one")
    if out["blur_size"].isna().any():
        bad = out.loc[out["blur_size"].isna(), "file"].iloc[0]
        raise ValueError(f"{bad}: evaluated images missing from the manifest")
    return out[["file", "index", "video", "center", "ne", "blur_size", "residual_l1"]]


def zscore(x) -> np.ndarray:
    """(x − mean) / std, population std (ddof 0); zeros for a constant column."""
    x = np.asarray(x, dtype=np.float64)
    sd = x.std()
    return np.zeros_like(x) if not np.isfinite(sd) or sd == 0 else (x - x.mean()) / sd


def residual_vs_blur(residuals: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """Fig. 9's numbers: the table with ``z_residual`` and ``z_blur`` added, and Pearson's r.

    ``residuals`` needs the columns residual_l1 and blur_size (any others are kept).
    """
    missing = {"residual_l1", "blur_size"} - set(residuals.columns)
    if missing:
        raise ValueError(f"the residual table lacks the column(s) {sorted(missing)}")
    table = residuals.copy().reset_index(drop=True)
    table["z_residual"] = zscore(table["residual_l1"])
    table["z_blur"] = zscore(table["blur_size"])
    constant = table["residual_l1"].nunique() < 2 or table["blur_size"].nunique() < 2
    r = float("nan") if constant else float(np.mean(table["z_residual"] * table["z_blur"]))
    return table, r


def residual_scatter_figure(residuals: pd.DataFrame, out: Path, method: str = "DeblurNetWILD",
                            data: str = "the test split") -> Figure:
    """Fig. 9: z(residual L1) against z(blur size), one point per test image."""
    table, r = residual_vs_blur(residuals)
    n = len(table)
    spearman = (float(table["residual_l1"].rank().corr(table["blur_size"].rank()))
                if n > 2 and np.isfinite(r) else float("nan"))
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    color = table["ne"] if "ne" in table else None
    sc = ax.scatter(table["z_blur"], table["z_residual"], c=color, cmap="viridis", s=22,
                    alpha=0.85, edgecolors="none", label="test image")
    if color is not None:
        fig.colorbar(sc, ax=ax, label="Ne (frames averaged)")
    if np.isfinite(r):
        lim = np.array([table["z_blur"].min(), table["z_blur"].max()])
        ax.plot(lim, r * lim, "k--", lw=1, label=f"least squares (slope r = {r:.2f})")
    for label, i in (("highest", table["residual_l1"].idxmax()),
                     ("lowest", table["residual_l1"].idxmin())):
        ax.annotate(label, (table.at[i, "z_blur"], table.at[i, "z_residual"]),
                    xytext=(6, 6), textcoords="offset points", fontsize=8)
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    ax.axvline(0, color="0.85", lw=0.8, zorder=0)
    ax.set_xlabel("average blur size (z-score)")
    ax.set_ylabel("L1 norm of the predicted residual (z-score)")
    ax.set_title(f"{method}: residual vs blur size\nn = {n}, Pearson r = {r:.3f}", fontsize=11)
    raw = (f"blur size {table['blur_size'].mean():.2f} ± {table['blur_size'].std(ddof=0):.2f} px\n"
           f"residual {table['residual_l1'].mean():.4f} ± {table['residual_l1'].std(ddof=0):.4f}")
    ax.text(0.02, 0.98, raw, transform=ax.transAxes, va="top", fontsize=8,
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.8"})
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path = save_figure(fig, out)
    stats = {"n_images": n, "pearson_r": r, "spearman_rho": spearman,
             "blur_size_mean": float(table["blur_size"].mean()),
             "blur_size_std": float(table["blur_size"].std(ddof=0)),
             "residual_l1_mean": float(table["residual_l1"].mean()),
             "residual_l1_std": float(table["residual_l1"].std(ddof=0))}
    caption = (f"Fig. 9: L1 norm of the residual predicted by {method} (mean |output − input|, "
               f"values in [0, 1]) against the average blur size (length of the mean motion "
               f"path integrated by the blurry image, downsampled px), both z-normalised, for "
               f"{n} images of {data}. Pearson r = {r:.3f} (Spearman ρ = {spearman:.3f}); the "
               f"paper reports a positive correlation on 700 test images.")
    cols = [c for c in ("file", "index", "video", "center", "ne", "residual_l1", "blur_size",
                        "z_residual", "z_blur") if c in table]
    return Figure(path, caption, stats, table[cols])


def _deblur_sample(model, path: Path, index: int, device, tile):
    with open_shard(path) as f:
        blurry, sharp = f["blurry"][index], f["sharp"][index]
    return blurry, deblur_array(model, blurry, device, tile), sharp


def extremes_figure(residuals: pd.DataFrame, shards: Mapping[str, Path], model: torch.nn.Module,
                    out: Path, n: int = 2, device: torch.device | str = "cpu",
                    tile: int | None = None, method: str = "DeblurNetWILD",
                    residual_gain: float | None = None) -> Figure:
    """Fig. 10: the ``n`` test images with the highest and the ``n`` with the lowest residual.

    Rows: highest first, then lowest; columns: blurry input, ``method`` output, sharp frame,
    and |output − input| (mean over channels) × ``residual_gain``; the default gain maps the
    99.5th percentile of the shown residuals to white, the same gain on every row. The outputs
    are recomputed (2n forward passes). ``residuals`` needs file, index, residual_l1 and
    blur_size; ``file`` names a shard of ``shards`` (:func:`shards_by_name`).
    """
    table, _ = residual_vs_blur(residuals)
    order = table.sort_values("residual_l1", ascending=False)
    n = max(1, min(n, len(order) // 2 or 1))
    picks = [("highest", i + 1, row) for i, row in enumerate(order.head(n).itertuples())]
    if len(order) > 1:
        picks += [("lowest", i + 1, row)
                  for i, row in enumerate(order.iloc[::-1].head(n).itertuples())]
    device = torch.device(device)
    samples = [_deblur_sample(model, shards[row.file], row.index, device, tile)
               for _, _, row in picks]
    resids = [np.abs(o - b / 255).mean(axis=2) for b, o, _ in samples]
    if residual_gain is None:
        top = float(np.percentile(np.concatenate([r.ravel() for r in resids]), 99.5))
        residual_gain = 1 / top if top > 0 else 1.0
    titles = ["blurry input", f"{method} output", "sharp (central frame)",
              f"|output − input| × {residual_gain:.3g}"]
    h, w = samples[0][0].shape[:2]
    width = 15.0
    fig, axes = plt.subplots(len(picks), 4, squeeze=False,
                             figsize=(width, len(picks) * (width / 4) * h / w + 0.9))
    shown = []
    for r, (ax_row, (end, rank, row), (blurry, output, sharp), resid) in enumerate(
            zip(axes, picks, samples, resids, strict=True)):
        images = [blurry, np.clip(output, 0, 1), sharp, np.clip(resid * residual_gain, 0, 1)]
        for j, (ax, img) in enumerate(zip(ax_row, images, strict=True)):
            ax.imshow(img, cmap="magma" if img.ndim == 2 else None, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(titles[j], fontsize=10)
        ne = f", Ne {int(row.ne)}" if hasattr(row, "ne") else ""
        ax_row[0].set_ylabel(f"{end} #{rank}\nresidual {row.residual_l1:.4f} "
                             f"(z {row.z_residual:+.2f})\nblur {row.blur_size:.1f} px "
                             f"(z {row.z_blur:+.2f}){ne}", fontsize=8.5)
        shown.append({"end": end, "rank": rank, "file": row.file, "index": int(row.index),
                      "residual_l1": float(row.residual_l1), "blur_size": float(row.blur_size)})
    fig.tight_layout()
    path = save_figure(fig, out)
    hi = [s for s in shown if s["end"] == "highest"]
    lo = [s for s in shown if s["end"] == "lowest"]
    caption = (f"Fig. 10: the test images with the highest ({len(hi)}, top) and lowest "
               f"({len(lo)}, bottom) residual L1 of {method}: blurry input, output, sharp "
               f"central frame and the residual magnitude (×{residual_gain:.3g}). Highest "
               f"residual {hi[0]['residual_l1']:.4f} at blur size {hi[0]['blur_size']:.1f} px"
               + (f"; lowest {lo[0]['residual_l1']:.4f} at {lo[0]['blur_size']:.1f} px."
                  if lo else "."))
    return Figure(path, caption, {"shown": shown, "residual_gain": residual_gain})


# --------------------------------------------------------------------------- Fig. 2


def sample_pair_figure(shards: Sequence[Path], out: Path, which: tuple[str, int] | None = None,
                       crop: int | None = None) -> Figure:
    """Fig. 2: a blurry/sharp pair of the (train) split, with a zoom on a crop.

    ``which`` = (file as ``train/shard-00000.h5``, index); default: the sample with the largest
    blur size. The crop (``crop`` px square, default a third of the shorter side) is placed where
    blurry and sharp differ most, and drawn on both full images.
    """
    meta = shard_metadata(shards)
    if which is None:
        row = meta.loc[meta["blur_size"].idxmax()]
    else:
        match = meta[(meta["file"] == which[0]) & (meta["index"] == which[1])]
        if match.empty:
            raise ValueError(f"no sample {which[1]} in {which[0]} among the given shards")
        row = match.iloc[0]
    path = shards_by_name(shards)[row["file"]]
    with open_shard(path) as f:
        blurry, sharp = f["blurry"][int(row["index"])], f["sharp"][int(row["index"])]
    h, w = blurry.shape[:2]
    size = min(crop or min(h, w) // 3, h, w)
    y, x = busiest_window(blurry, sharp, size)
    ne, start = int(row["ne"]), int(row["start"])
    width = 11.0
    fig, axes = plt.subplots(2, 2, figsize=(width, width / 2 * h / w + width / 2 + 0.8),
                             gridspec_kw={"height_ratios": [h / w, 1]})
    titles = [f"blurry: mean of Ne = {ne} frames ({start}–{start + ne - 1})",
              f"sharp: central frame {int(row['center'])}"]
    for j, img in enumerate((blurry, sharp)):
        top, bottom = axes[0, j], axes[1, j]
        top.imshow(img)
        top.add_patch(Rectangle((x - 0.5, y - 0.5), size, size, fill=False, ec="yellow", lw=1.5))
        top.set_title(titles[j], fontsize=10)
        bottom.imshow(img[y : y + size, x : x + size], interpolation="nearest")
        bottom.set_title(f"zoom ({size}×{size} px at x={x}, y={y})", fontsize=9)
        for ax in (top, bottom):
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"{row['video']}  ·  {row['file']} #{int(row['index'])}  ·  blur size "
                 f"{row['blur_size']:.1f} px  ·  max flow {row['flow_max']:.2f} px/frame",
                 fontsize=10)
    fig.tight_layout()
    out_path = save_figure(fig, out)
    stats = {"file": row["file"], "index": int(row["index"]), "video": row["video"],
             "start": start, "ne": ne, "center": int(row["center"]),
             "blur_size": float(row["blur_size"]), "crop": [x, y, size]}
    caption = (f"Fig. 2: a WILD training pair from {row['video']}: the blurry image is the "
               f"mean of Ne = {ne} consecutive downsampled frames ({start}–{start + ne - 1}), "
               f"the sharp image its central frame {int(row['center'])}; blur size "
               f"{row['blur_size']:.1f} px. Bottom: the {size}×{size} crop (yellow box) where "
               f"the two differ most.")
    return Figure(out_path, caption, stats)
