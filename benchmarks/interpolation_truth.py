"""Frame interpolation against the true exposure (issue 27): a clip rendered with stretches of
chosen speeds goes through the workflow's own stages (probe, flow, select, shards) at each
``interpolate.factor`` k, and every kept window's blurry image is compared with the scene
rendered densely over the exposure it stands for, beside the plain mean of the same frames:

    python benchmarks/interpolation_truth.py [--stretches 0.5:0.5,2.4:1,0.5:0.5,6:1]
        [--factors 1,2,4,8] [--photos brick,gravel,text --disc coins --seed 1]

Exposures: the mean of the k (Ne − 1) + 1 original and interpolated frames at t0 + j/k samples
[t0 − 1/(2k), t_end + 1/(2k)] (frames t0 … t_end); the plain mean of the Ne frames samples
[t0 − 1/2, t_end + 1/2]. Each is compared with the true exposure of its own interval (the mean
of 8 renders per 1/k of a frame, area-downsampled ×3 as §2 step 1), over the frame and inside
the box the moving disc covers. Prints, per k: pairs kept per second of footage, their blur
sizes, and the PSNRs per stretch; then the issue's checks.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")  # before tqdm is imported

import numpy as np
import pandas as pd

from wilddeblur.dataset.average import average_frames
from wilddeblur.dataset.select import SelectionSettings
from wilddeblur.dataset.shards import open_shard
from wilddeblur.dataset.stages import average, select
from wilddeblur.errors import SelectionError
from wilddeblur.evaluation.metrics import psnr
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.flow.stages import flow_stage
from wilddeblur.video.exposure import (
    StretchScene,
    parse_stretches,
    render_stretch_clip,
    stretch_scene,
)
from wilddeblur.video.probe import VideoInfo
from wilddeblur.video.stages import probe_video
from wilddeblur.video.windows import VideoWindows

SAMPLES_PER_STEP = 8  # renders per 1/k of a frame in the true exposure


def stretch_of(center: int, stretches: list[tuple[float, float]], fps: float) -> float:
    """The speed of the stretch a frame lies in."""
    ends = np.cumsum([round(s * fps) for _, s in stretches])
    return stretches[int(np.searchsorted(ends, center, side="right"))][0]


def truth_psnr(scene: StretchScene, blurry: np.ndarray, t0: float, t1: float,
               steps: int) -> tuple[float, float]:
    """(frame, disc box) PSNR of ``blurry`` against the true exposure of [t0, t1]."""
    truth = scene.exposure(t0, t1, SAMPLES_PER_STEP * steps)
    ys, xs = scene.object_box(t0, t1)
    return psnr(blurry, truth), psnr(blurry[ys, xs], truth[ys, xs])


def build(work: Path, name: str, k: int, flow: FlowSettings) -> pd.DataFrame:
    """The workflow's select and average stages at factor ``k``: the kept windows, with
    their blurry images (column ``blurry``)."""
    out = work / f"k{k}"
    try:
        select([work / "flow" / f"{name}.csv"], work / "probe", out / "selection.csv",
               SelectionSettings(interpolate=k), fixed_splits={name: "train"})
    except SelectionError as err:  # a factor that keeps nothing
        print(f"k={k}: {str(err).splitlines()[0]}")
        return pd.DataFrame(columns=["start", "ne", "center", "blur_size", "blurry"])
    sel = pd.read_csv(out / "selection.csv")
    kept = sel[sel["kept"]].sort_values(["shard", "index"]).reset_index(drop=True)
    images = []
    for shard in sorted(kept["shard"].unique()):
        path = out / "train" / f"shard-{shard:05d}.h5"
        average(out / "selection.csv", "train", int(shard), work / "probe", path,
                interpolate=k, flow=flow)
        with open_shard(path) as f:
            images += list(f["blurry"][()])
    return kept.assign(blurry=images)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stretches", default="0.5:0.5,2.4:1,0.5:0.5,6:1",
                   help="speed:seconds,... (downsampled px per frame)")
    p.add_argument("--factors", default="1,2,4,8")
    p.add_argument("--photos", default="brick,gravel,text")
    p.add_argument("--disc", default="coins")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--windows", type=int, default=4,
                   help="windows per stretch and k compared with the true exposure")
    args = p.parse_args()
    stretches = parse_stretches(args.stretches)
    factors = [int(k) for k in args.factors.split(",")]
    scene = stretch_scene(stretches, args.photos.split(","), args.disc, seed=args.seed)
    seconds = scene.frames / scene.fps
    flow = FlowSettings()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work, name = Path(tmp), "stretches"
        clip = work / f"{name}.mp4"
        render_stretch_clip(scene, clip)
        probe_video(clip, work / "probe" / f"{name}.json")
        flow_stage(work / "probe" / f"{name}.json", work / "flow" / f"{name}.csv", 3, flow, 2)
        info = VideoInfo.from_json(work / "probe" / f"{name}.json")
        for k in factors:
            kept = build(work, name, k, flow)
            kept["stretch"] = [stretch_of(c, stretches, scene.fps) for c in kept["center"]]
            print(f"k={k}: {len(kept)} pairs kept, {len(kept) / seconds:.1f} per second of "
                  f"footage; blur size median {kept['blur_size'].median():.1f} px, max "
                  f"{kept['blur_size'].max():.1f} px; per stretch "
                  + ", ".join(f"{v:g} px/frame: {n}" for v, n in
                              kept["stretch"].value_counts().sort_index().items()))
            chosen = pd.concat([g.iloc[np.linspace(0, len(g) - 1, min(len(g), args.windows))
                                       .round().astype(int)] for _, g in kept.groupby("stretch")])
            windows = list(zip(chosen["start"], chosen["ne"], strict=True))
            with VideoWindows(info, 3, sorted(set(windows))) as source:
                for row in chosen.sort_values("start").itertuples():
                    t0, t1 = row.start, row.start + row.ne - 1
                    interp = truth_psnr(scene, row.blurry, t0 - 0.5 / k, t1 + 0.5 / k,
                                        k * (row.ne - 1) + 1)
                    plain = truth_psnr(scene, average_frames(source.window(row.start, row.ne)),
                                       t0 - 0.5, t1 + 0.5, row.ne)
                    rows.append({"k": k, "stretch": row.stretch, "start": row.start,
                                 "ne": row.ne, "blur_size": row.blur_size,
                                 "frame": interp[0], "box": interp[1],
                                 "plain frame": plain[0], "plain box": plain[1]})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    summary = table.groupby(["k", "stretch"])[["frame", "box", "plain frame", "plain box"]]
    print("\nmedian PSNR (dB) against the true exposure, per k and stretch (px/frame):")
    print(summary.median().to_string(float_format=lambda x: f"{x:.2f}"))


if __name__ == "__main__":
    main()
