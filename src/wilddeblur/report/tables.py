"""The results report: Table 2 as ``psnr.csv``, ``report.md``, and a figure of examples."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from skimage.io import imread  # noqa: E402

from wilddeblur.dataset.shards import open_shard  # noqa: E402
from wilddeblur.fileio import atomic_path, write_text_atomic  # noqa: E402
from wilddeblur.models.registry import arch_of, name_pattern  # noqa: E402
from wilddeblur.report.networks import (  # noqa: E402
    blur_column,
    headline_lines,
    network_gains,
)

PAPER_TABLE2 = {"Sun et al. 2015": 25.48, "Xu & Jia 2010": 23.61,
                "uniform L0 (after Xu et al. 2013)": 22.50,
                "DeblurNetSI": 25.8, "DeblurNetWILD": 28.1}


PROTOCOL_IMAGES = 15  # "15 random images of the WILD test set" (§4)


def protocol_split(per_image: pd.DataFrame, n_protocol: int = PROTOCOL_IMAGES) -> str:
    """The label of the protocol rows: ``test-15`` as in the paper, ``test-N`` when the split
    (or the evaluated part of it) has only N < ``n_protocol`` images: the count it has."""
    return f"test-{min(n_protocol, len(per_image[['file', 'index']].drop_duplicates()))}"


def summarise(per_image: pd.DataFrame, seed: int = 0,
              n_protocol: int = PROTOCOL_IMAGES) -> pd.DataFrame:
    """Table 2 rows: mean of per-image metrics per method, on the whole test split ("test")
    and on the paper's protocol (:func:`protocol_split`, "test-15": ``n_protocol`` images drawn
    with the seed, the same images for every method; all of them, "test-N", when there are
    fewer). ``blurry_psnr``: the blurry input's mean PSNR on the images of that row (a method
    run on a subset is compared with the input on the same images)."""
    images = per_image[["file", "index"]].drop_duplicates().sort_values(["file", "index"])
    drawn = images.sample(n=min(n_protocol, len(images)), random_state=seed)
    chosen = per_image.merge(drawn, on=["file", "index"])
    blurry = per_image.loc[per_image["method"] == "blurry", ["file", "index", "psnr"]]
    blurry = blurry.rename(columns={"psnr": "blurry_psnr"})
    tables = []
    for split, rows in (("test", per_image), (protocol_split(per_image, n_protocol), chosen)):
        rows = rows.merge(blurry, on=["file", "index"], how="left")
        table = rows.groupby("method", sort=False).agg(
            n_images=("psnr", "size"), psnr=("psnr", "mean"), ssim=("ssim", "mean"),
            psnr_shift=("psnr_shift", "mean"), psnr_float=("psnr_float", "mean"),
            blurry_psnr=("blurry_psnr", "mean")).reset_index()
        table.insert(1, "split", split)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    table["paper_psnr"] = table["method"].map(PAPER_TABLE2).where(table["split"] != "test")
    table.insert(1, "architecture", table["method"].map(architecture))
    return table


def architecture(method: str) -> str:
    """The network behind a row of Table 2 ('' for the input and the classical methods)."""
    return arch_of(method)[0] if re.fullmatch(name_pattern(), method) else ""


def with_paper_rows(table: pd.DataFrame, split: str) -> pd.DataFrame:
    """``table``'s rows of ``split`` and a row for every method of the paper's Table 2 that
    was not computed here (no numbers but ``paper_psnr``); column ``computed``."""
    rows = table[table["split"] == split].assign(computed="yes")
    missing = [m for m in PAPER_TABLE2 if m not in set(rows["method"])]
    extra = pd.DataFrame({"method": missing, "split": split, "computed": "not computed",
                          "paper_psnr": [PAPER_TABLE2[m] for m in missing]})
    out = pd.concat([rows, extra], ignore_index=True)[[*table.columns, "computed"]]
    out["n_images"] = pd.Series([v if pd.isna(v) else int(v) for v in out["n_images"]],
                                dtype=object)  # printed 15, not 15.000
    return out


BLUR_BINS = (0.0, 1.0, 3.0, 6.0, np.inf)  # px of blur size (networks.blur_column's)
BLUR_LABELS = [f"{lo:g}-{hi:g} px" if np.isfinite(hi) else f">= {lo:g} px"
               for lo, hi in zip(BLUR_BINS[:-1], BLUR_BINS[1:], strict=True)]


def blur_breakdown(per_image: pd.DataFrame, manifest: pd.DataFrame) -> pd.DataFrame:
    """Mean PSNR per method on the test images grouped by their blur size (the integrated flow
    over the averaged window; of the moving part, :func:`blur_column`): where a network gains
    and where it
    loses (the methods run on every test image). A nearly sharp pair (blur < 1 px, blurry PSNR
    often above 40 dB) loses many dB to a residual that a blurred one hardly notices, so it can
    dominate the mean of Table 2."""
    per_method = per_image.groupby("method").size()
    whole = per_image[per_image["method"].isin(per_method[per_method == per_method.max()].index)]
    col = blur_column(manifest)[0]
    rows = whole.merge(manifest[["file", "index", col]], on=["file", "index"], how="left")
    rows["blur"] = pd.cut(rows[col], BLUR_BINS, right=False, labels=BLUR_LABELS)
    table = rows.pivot_table(index="blur", columns="method", values="psnr", aggfunc="mean",
                             observed=True)
    counts = rows[rows["method"] == rows["method"].iloc[0]].groupby("blur", observed=True).size()
    table.insert(0, "n_images", counts)
    return table.reset_index()


def markdown_table(df: pd.DataFrame, floats: str = "{:.3f}") -> str:
    def fmt(v):
        if isinstance(v, float):
            return "" if np.isnan(v) else floats.format(v)
        return str(v)

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def examples_figure(per_image: pd.DataFrame, shards: Mapping[str, Path], examples_dir: Path,
                    out: Path, method: str, zoom: int = 64) -> None:
    """For each example the evaluation saved: blurry / ``method``'s output / sharp, and below
    them the same ``zoom``² crop of each, enlarged, where the blurry image is furthest from the
    sharp one (its box drawn on the full images)."""
    from matplotlib.patches import Rectangle

    from wilddeblur.report.plotting import busiest_window

    saved = sorted(Path(examples_dir).glob("*.png"))
    rows = per_image[per_image["method"] == method].head(len(saved))
    base = per_image[per_image["method"] == "blurry"].set_index(["file", "index"])["psnr"]
    fig, axes = plt.subplots(2 * len(saved), 3, figsize=(12, 4.6 * len(saved)), squeeze=False,
                             gridspec_kw={"height_ratios": [1, 1.4] * len(saved)})
    for k, (png, row) in enumerate(zip(saved, rows.itertuples(), strict=True)):
        with open_shard(shards[row.file]) as f:
            blurry, sharp = f["blurry"][row.index], f["sharp"][row.index]
        ours = imread(png)
        y, x = busiest_window(blurry, sharp, zoom)
        before = base.get((row.file, row.index), np.nan)
        titles = [f"blurry ({row.video} #{row.center}, {before:.2f} dB)",
                  f"{method} ({row.psnr:.2f} dB)", "sharp"]
        for col, (img, title) in enumerate(zip((blurry, ours, sharp), titles, strict=True)):
            ax, crop_ax = axes[2 * k, col], axes[2 * k + 1, col]
            ax.imshow(img)
            ax.add_patch(Rectangle((x, y), zoom, zoom, fill=False, color="yellow", lw=1))
            ax.set_title(title, fontsize=9)
            crop_ax.imshow(img[y : y + zoom, x : x + zoom], interpolation="nearest")
            crop_ax.set_title("zoom", fontsize=8)
            ax.axis("off")
            crop_ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def trained_here(context: dict) -> list[str]:
    """What each architecture of ``context['model']['arch']`` was trained with, and how that
    differs from the paper's run."""
    from wilddeblur.models.registry import arch_params, labels
    from wilddeblur.training.settings import settings_for_arch

    train, model = context.get("train"), context.get("model")
    if not (train and model):
        return []
    lines = []
    for arch in model.get("arch", ["deblurnet"]):
        s = settings_for_arch(train, arch)
        p = arch_params(model, arch)
        recipe = (f"{s.steps} steps of batch {s.batch_size} on {s.crop}² crops, "
                  f"{s.optimizer} (β {s.beta1:g}, {s.beta2:g}), lr {s.lr:g} ({s.schedule})")
        if arch == "deblurnet":
            lines.append(f"Trained here: DeblurNet with Table 1's structure at width "
                         f"{p['width']:g} (hidden channels × {p['width']:g}; 1 = the paper's "
                         f"24.7 M conv weights), Eq. (1), {recipe}. The paper trained width 1 "
                         "with batch 10 for about 5 days on 2 GPUs, on ≈ 50K pairs from its own "
                         "240 fps footage.")
        else:
            lines.append(f"Trained here: {labels()[arch]} width {p['width']}, blocks "
                         f"{p['enc_blocks']} / {p['middle_blocks']} / {p['dec_blocks']}, loss "
                         f"{s.loss if s.loss != 'auto' else 'L1'}, {recipe}; beyond the paper.")
        lines.append("")
    return lines


def write_report(per_image: pd.DataFrame, selection: pd.DataFrame,
                 train_logs: dict[str, pd.DataFrame], out_dir: Path, figure: str, context: dict,
                 si_per_image: pd.DataFrame | None = None,
                 kernels_figure: str | None = None,
                 manifest: pd.DataFrame | None = None, top: Sequence[str] = (),
                 sections: Sequence[str] = ()) -> pd.DataFrame:
    """Write ``psnr.csv`` and ``report.md`` into ``out_dir`` (each once, atomically); return
    the PSNR table.

    ``train_logs``: each trained network's loss log, by name (DeblurNetWILD, NAFNetSI, ...).
    ``top``: paragraphs right under the title (what a reader must see first); ``sections``:
    markdown sections appended at the end.

    ``si_per_image``: per-image results on the shift-invariant test set (held-out kernels);
    its rows join ``psnr.csv`` with split ``si-test``. ``manifest``: the dataset's, for the
    PSNR by blur size.
    """
    out_dir = Path(out_dir)
    table = summarise(per_image, seed=context.get("seed", 0), n_protocol=PROTOCOL_IMAGES)
    si_table = None
    if si_per_image is not None:
        si_table = summarise(si_per_image, seed=context.get("seed", 0))
        si_table = si_table[si_table["split"] == "test"].assign(split="si-test", paper_psnr=np.nan)
        table = pd.concat([table, si_table], ignore_index=True)
    with atomic_path(out_dir / "psnr.csv") as tmp:
        table.to_csv(tmp, index=False)
    kept = selection.groupby("video").agg(
        split=("split", "first"), windows=("kept", "size"), kept=("kept", "sum"),
        rejected_flow=("reason", lambda r: int((r == "flow").sum())),
        rejected_matching=("reason", lambda r: int((r == "matching").sum())),
        mean_ne=("ne", "mean")).reset_index()
    by_blur = blur_breakdown(per_image, manifest) if manifest is not None else None
    protocol = protocol_split(per_image)
    fewer = (f"; only {protocol[5:]} test images are evaluated here, so all of them"
             if protocol != f"test-{PROTOCOL_IMAGES}" else "")
    gains = network_gains(per_image, list(train_logs), manifest)
    lines = [
        "# wilddeblur report",
        "",
        *[line for paragraph in top for line in (paragraph, "")],
        *headline_lines(gains),
        *trained_here(context),
        f"Data: {context['data']}. Machine: {context['machine']}.",
        "",
        *([f"Adapted to the frame sizes (checked after probe): {'; '.join(context['sizes'])}.",
           ""] if context.get("sizes") else []),
        "## Table 2: PSNR / SSIM on the test split",
        "",
        "Mean of per-image values; RGB, 8-bit outputs, no border crop; SSIM with Gaussian "
        "weights (scikit-image). `psnr_shift`: best over shifts of ±3 px (Köhler et al.'s "
        "protocol); `psnr_float`: before the 8-bit rounding; `blurry_psnr`: the blurry input "
        "on the images of the row (a baseline run on a subset is compared on that subset). "
        f"Split `test` is the whole test split, `{protocol}` the paper's protocol (15 images "
        f"drawn with the seed{fewer}). `paper_psnr` is "
        "the figure published in the paper (its WILD test set, not this data): for reference "
        "only, not comparable.",
        "",
        markdown_table(table[table["split"] == "test"]),
        "",
        "The paper's protocol, with every row of its Table 2 (a row the workflow did not "
        "compute says so):",
        "",
        markdown_table(with_paper_rows(table, protocol)),
        "",
    ]
    if by_blur is not None:
        lines += [
            f"Mean PSNR on the test split by {blur_column(manifest)[1]}, in px:",
            "",
            markdown_table(by_blur, floats="{:.2f}"),
            "",
        ]
    if si_table is not None:
        lines += [
            "## Shift-invariant test set",
            "",
            "The WILD test split's sharp images blurred with kernels held out from DeblurNetSI's "
            "training (Chakrabarti-style bank), plus Gaussian noise.",
            "",
            markdown_table(si_table),
            "",
        ]
        if kernels_figure:
            lines += [f"![sample kernels of the bank]({kernels_figure})", ""]
    lines += [
        "## Dataset",
        "",
        f"Selection: flow statistic `{context['statistic']}` ≤ {context['threshold']} px "
        f"(pairs within {context.get('guard_pairs', 0)} of a failing pair fail too), "
        f"matching error ≤ {context['max_match_err']}; "
        f"Ne odd in [{context['ne_min']}, {context['ne_max']}].",
        "",
        markdown_table(kept, floats="{:.1f}"),
        "",
        "## Training",
        "",
        *[f"- {name}: " + (f"{int(log['step'].iloc[-1])} steps, last logged loss "
                           f"{log['loss'].iloc[-1]:.5f}, {log['seconds'].iloc[-1]:.0f} s."
                           if len(log) else "no training log.")
          for name, log in train_logs.items()],
        "",
        "## Examples",
        "",
        f"![blurry, deblurred, sharp]({figure})",
        "",
    ]
    text = "\n".join(lines) + ("\n" + "\n".join(sections) if sections else "")
    write_text_atomic(out_dir / "report.md", text)
    return table
