"""Dataset build speed: frames per second of the whole build (probe → shards, DIS fast) against
ffmpeg decoding the same clip alone, measured in one run; prints the ratio (goal ≥ 0.5).

    python benchmarks/dataset_build.py [--seconds 10] [--clip PATH]

Without ``--clip`` it renders a 1280×720, 240 fps demo clip first (not timed).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from wilddeblur.dataset.select import SelectionSettings, assign_shards, select_windows
from wilddeblur.dataset.shards import shard_path, write_shard
from wilddeblur.flow import PairStatistics, make_backend
from wilddeblur.video.demo import render_clip
from wilddeblur.video.downsample import downsample_video
from wilddeblur.video.framestore import FrameStore
from wilddeblur.video.probe import probe


def decode_only(clip: Path) -> float:
    """Seconds for ffmpeg to decode every frame and discard it."""
    t0 = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(clip), "-f", "null", "-"],
                   check=True)
    return time.perf_counter() - t0


def build(clip: Path, work: Path, preset: str) -> dict[str, float]:
    """The dataset build of one video, stage by stage, in this process; seconds per stage."""
    times = {}
    t = time.perf_counter()
    info = probe(clip)
    times["probe"] = time.perf_counter() - t
    t = time.perf_counter()
    flow = PairStatistics(make_backend("dis", preset=preset))
    downsample_video(info, work / "frames.h5", flow=flow)  # one streaming pass
    pairs = flow.table()
    with FrameStore(work / "frames.h5") as store:
        size = (store.frames.shape[2], store.frames.shape[1])
    times["downsample+flow"] = time.perf_counter() - t
    t = time.perf_counter()
    sel = select_windows("clip", pairs, SelectionSettings())
    sel["split"] = "train"
    sel = assign_shards(sel, {"clip": size}, per_shard=256)
    kept = sel[sel["kept"]]
    times["select"] = time.perf_counter() - t
    t = time.perf_counter()
    for shard, rows in kept.groupby("shard"):
        write_shard(shard_path(work, "train", int(shard)), rows, {"clip": work / "frames.h5"}, "")
    times["shards"] = time.perf_counter() - t
    times["samples"] = len(kept)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--clip", type=Path, default=None)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--preset", default="fast", choices=["ultrafast", "fast", "medium"])
    args = p.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip = args.clip
        if clip is None:
            clip = work / "demo-train-a.mp4"
            render_clip("demo-train-a", clip, seconds=args.seconds)
        frames = probe(clip).frames
        decode = decode_only(clip)
        times = build(clip, work, args.preset)
    total = sum(v for k, v in times.items() if k != "samples")
    name = clip.name if args.clip else "demo-train-a (rendered)"
    print(f"clip: {name}, {frames} frames, {os.cpu_count()} CPUs")
    print(f"ffmpeg decode only: {frames / decode:8.1f} frames/s")
    print(f"whole build:        {frames / total:8.1f} frames/s  "
          f"({(frames / total) / (frames / decode):.2f}x decode speed), "
          f"{int(times['samples'])} samples")
    print("per stage (s): " + ", ".join(f"{k} {v:.2f}" for k, v in times.items()
                                        if k != "samples"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {rss:.0f} MB")


if __name__ == "__main__":
    main()
