"""What the trained networks did: the gain of each over the blurry input (on every test image,
on the blurred ones, the share it improves), the report's first lines, and the examples figure
of the best network with zoomed crops."""

from __future__ import annotations

import numpy as np
import pandas as pd

from wilddeblur.models.registry import arch_of, labels

BLURRED_PX = 1.0  # a test pair is "blurred" from this blur size on (px, blur_column's)


def blur_column(table: pd.DataFrame) -> tuple[str, str]:
    """The column of a manifest or selection table that the report's blur sizes use, and its
    description: ``blur_region``, the blur of what moves (the sum over the window's pairs of the
    flow that ``flow.region_px`` pixels reach, the selection's ``region`` statistic), which a
    still camera's frame-wide mean dilutes; ``blur_size`` (the mean over the frame) only for
    shards built before ``blur_region`` existed."""
    if "blur_region" in table and table["blur_region"].notna().any():
        return "blur_region", ("blur of the moving part (`blur_region`: the path length, "
                               "summed over the window's pairs, that `flow.region_px` "
                               "pixels reach)")
    return "blur_size", ("average blur over the whole frame (`blur_size`; these shards "
                         "predate `blur_region`, the blur of the moving part)")


def network_gains(per_image: pd.DataFrame, networks: list[str],
                  manifest: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per network: its mean test PSNR, the mean gain (dB) over the blurry input on
    every test image and, with ``manifest``, on the blurred ones (blur size >= 1 px, the size
    of :func:`blur_column`), and the share of test images whose PSNR it raises."""
    blurry = per_image.loc[per_image["method"] == "blurry", ["file", "index", "psnr"]]
    col = None
    if manifest is not None:
        col = blur_column(manifest)[0]
        blurry = blurry.merge(manifest[["file", "index", col]], on=["file", "index"],
                              how="left")
    rows = []
    for name in networks:
        ours = per_image.loc[per_image["method"] == name, ["file", "index", "psnr"]]
        both = ours.merge(blurry, on=["file", "index"], suffixes=("", "_blurry"))
        if both.empty:
            continue
        gain = both["psnr"] - both["psnr_blurry"]
        row = {"method": name, "architecture": arch_of(name)[0], "n_images": len(both),
               "psnr": both["psnr"].mean(), "gain_db": gain.mean(),
               "improved": float((gain > 0).mean())}
        if col is not None:
            blurred = both[col] >= BLURRED_PX
            row["blurred_by"] = col
            row["n_blurred"] = int(blurred.sum())
            row["gain_blurred_db"] = gain[blurred].mean() if blurred.any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def best_network(per_image: pd.DataFrame, networks: list[str]) -> str:
    """The network with the highest mean test PSNR."""
    means = per_image[per_image["method"].isin(networks)].groupby("method")["psnr"].mean()
    if means.empty:
        raise ValueError(f"no evaluation of any of {networks}")
    return str(means.idxmax())


def headline_lines(gains: pd.DataFrame) -> list[str]:
    """The report's first lines: each network's gain, then WILD against SI per architecture
    (the paper's Table 2: DeblurNetWILD 28.1 against DeblurNetSI 25.8 dB)."""
    lines = []
    for r in gains.itertuples(index=False):
        verdict = ("deblurs" if r.gain_db >= 1.0 else "improves on the input" if r.gain_db > 0
                   else "does not improve on the input")
        text = (f"**{r.method}** reaches {r.psnr:.2f} dB on the {r.n_images} test images, "
                f"{r.gain_db:+.2f} dB over the blurry input: it {verdict}.")
        if "gain_blurred_db" in gains and r.n_blurred:
            what = "moving part's blur" if r.blurred_by == "blur_region" else "average blur"
            text += (f" On the {r.n_blurred} blurred ones ({what} {BLURRED_PX:g} px or more): "
                     f"{r.gain_blurred_db:+.2f} dB.")
        text += f" It improves {r.improved:.0%} of the test images."
        lines += [text, ""]
    by_name = gains.set_index("method")["psnr"]
    for arch in dict.fromkeys(gains["architecture"]):
        wild, si = labels()[arch] + "WILD", labels()[arch] + "SI"
        if wild in by_name and si in by_name:
            diff = by_name[wild] - by_name[si]
            lines += [f"{wild} {'beats' if diff > 0 else 'does not beat'} {si}, the same "
                      f"network trained on synthetic shift-invariant blur, by {diff:+.2f} dB "
                      "(the paper's Table 2: DeblurNetWILD 28.1 against DeblurNetSI 25.8 dB, "
                      "on its own WILD test set).", ""]
    return lines
