"""Why the flow statistics ignore a margin along the frame edges (config `flow.border_px`).

For each demo clip (decoded and downsampled as the flow stage does; its true motion table),
DIS medium's flow of every consecutive pair, the `region` statistic with margins of 0, 8 and
16 px, then the 1 px threshold and the guard (`select.guard_pairs`): how many pairs pass, and how
many of those truly move more than 1 px somewhere (the ground truth's largest displacement,
downsampled pixels). Also where the 64 largest magnitudes of calm pairs lie: their mean distance
to the nearest frame edge.

    python benchmarks/flow_border.py --clips results/demo/*.mp4
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from wilddeblur.dataset.select import guarded
from wilddeblur.flow.backends import dis
from wilddeblur.flow.stats import inner, region_max
from wilddeblur.video.demo import motion_path
from wilddeblur.video.downsample import stream_video
from wilddeblur.video.probe import probe

BORDERS = (0, 8, 16)


def edge_distance(mag: np.ndarray, k: int = 64) -> float:
    """Mean distance (px) to the nearest frame edge of the ``k`` largest magnitudes."""
    h, w = mag.shape
    ys, xs = np.unravel_index(np.argsort(mag.ravel())[-k:], mag.shape)
    return float(np.minimum.reduce([ys, xs, h - 1 - ys, w - 1 - xs]).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=Path, nargs="+", required=True)
    ap.add_argument("--factor", type=int, default=3)
    ap.add_argument("--guard", type=int, default=4)
    args = ap.parse_args()
    flow = dis("medium")
    rows = []
    for clip in args.clips:
        truth = pd.read_csv(motion_path(clip))["gt_max_disp_ds"].to_numpy()
        chunks: list[np.ndarray] = []
        stream_video(probe(clip), args.factor, chunks.append)
        frames = np.concatenate(chunks)
        mags = []
        for t in range(len(frames) - 1):
            f = flow(frames[t], frames[t + 1])
            mags.append(cv2.magnitude(f[..., 0], f[..., 1]))
        true_next = truth[1 : len(frames)]  # pair t: frame t → t+1
        calm = [edge_distance(m) for m, g in zip(mags, true_next, strict=True) if g < 0.9]
        row = {"clip": clip.stem, "pairs": len(mags), "calm_top64_edge_px": np.mean(calm)}
        for b in BORDERS:
            region = np.array([region_max(inner(m, b).ravel(), 64) for m in mags])
            kept = guarded(region < 1.0, args.guard)
            row[f"kept_{b}"] = int(kept.sum())
            row[f"kept_true_over_1px_{b}"] = int((kept & (true_next > 1.0)).sum())
        rows.append(row)
    table = pd.DataFrame(rows)
    print(f"# {platform.machine()}, DIS medium, region (64 px), threshold 1 px, guard {args.guard}")
    print(table.to_string(index=False, float_format="%.1f"))
    total = table.drop(columns=["clip", "calm_top64_edge_px"]).sum()
    print("total:", ", ".join(f"{k} {v}" for k, v in total.items()))


if __name__ == "__main__":
    main()
