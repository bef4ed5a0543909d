"""The results report: Table 2 as ``psnr.csv``, ``report.md``, and a figure of examples."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from skimage.io import imread  # noqa: E402

from wilddeblur.shards import open_shard  # noqa: E402

PAPER_TABLE2 = {"Sun et al. 2015": 25.48, "Xu & Jia 2010": 23.61, "Xu et al. 2013": 22.50,
                "DeblurNetSI": 25.8, "DeblurNetWILD": 28.1}


def summarise(per_image: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Table 2 rows: mean of per-image PSNR / SSIM per method (order of first appearance)."""
    grouped = per_image.groupby("method", sort=False)
    table = grouped.agg(n_images=("psnr", "size"), psnr=("psnr", "mean"), ssim=("ssim", "mean"),
                        psnr_float=("psnr_float", "mean")).reset_index()
    table.insert(1, "split", split)
    table["paper_psnr"] = table["method"].map(PAPER_TABLE2)
    return table


def markdown_table(df: pd.DataFrame, floats: str = "{:.3f}") -> str:
    def fmt(v):
        if isinstance(v, float):
            return "" if np.isnan(v) else floats.format(v)
        return str(v)

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def examples_figure(per_image: pd.DataFrame, dataset_root: Path, examples_dir: Path,
                    out: Path, method: str) -> None:
    """Rows of blurry / deblurred / sharp for the examples the evaluation saved."""
    saved = sorted(Path(examples_dir).glob("*.png"))
    rows = per_image[per_image["method"] == method].head(len(saved))
    fig, axes = plt.subplots(len(saved), 3, figsize=(12, 2.4 * len(saved)), squeeze=False)
    for ax_row, png, row in zip(axes, saved, rows.itertuples(), strict=True):
        with open_shard(Path(dataset_root) / row.file) as f:
            blurry, sharp = f["blurry"][row.index], f["sharp"][row.index]
        ours = imread(png)
        titles = [f"blurry ({row.video} #{row.center})", f"{method} ({row.psnr:.2f} dB)", "sharp"]
        for ax, img, title in zip(ax_row, (blurry, ours, sharp), titles, strict=True):
            ax.imshow(img)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def write_report(per_image: pd.DataFrame, selection: pd.DataFrame, train_log: pd.DataFrame,
                 out_dir: Path, figure: str, context: dict) -> pd.DataFrame:
    """Write ``psnr.csv`` and ``report.md`` into ``out_dir``; return the PSNR table."""
    out_dir = Path(out_dir)
    table = summarise(per_image)
    table.to_csv(out_dir / "psnr.csv", index=False)
    kept = selection.groupby("video").agg(
        split=("split", "first"), windows=("kept", "size"), kept=("kept", "sum"),
        rejected_flow=("reason", lambda r: int((r == "flow").sum())),
        rejected_matching=("reason", lambda r: int((r == "matching").sum())),
        mean_ne=("ne", "mean")).reset_index()
    last = train_log.iloc[-1] if len(train_log) else None
    lines = [
        "# wilddeblur report",
        "",
        f"Data: {context['data']}. Machine: {context['machine']}.",
        "",
        "## Table 2: PSNR / SSIM on the test split",
        "",
        "Mean of per-image values; RGB, 8-bit outputs, no border crop; SSIM with Gaussian "
        "weights (scikit-image). `psnr_float` is before the 8-bit rounding. `paper_psnr` is the "
        "figure published in the paper (on the WILD test set, not this data), for reference only.",
        "",
        markdown_table(table),
        "",
        "## Dataset",
        "",
        f"Selection: flow statistic `{context['statistic']}` ≤ {context['threshold']} px, "
        f"matching error ≤ {context['max_match_err']}; "
        f"Ne odd in [{context['ne_min']}, {context['ne_max']}].",
        "",
        markdown_table(kept, floats="{:.1f}"),
        "",
        "## Training",
        "",
        (f"{int(last['step'])} steps, last logged loss {last['loss']:.5f}, "
         f"{last['seconds']:.0f} s." if last is not None else "No training log."),
        "",
        "## Examples",
        "",
        f"![blurry, deblurred, sharp]({figure})",
        "",
    ]
    (out_dir / "report.md").write_text("\n".join(lines))
    return table
