"""Dataset build speed against ffmpeg decoding the same clip, measured in one run, at the
workflow's default settings (DIS medium, region statistic, no frame store):

    python benchmarks/dataset_build.py --clip X [--preset medium] [--threads 2]

Prints "N.NNx decode": the clip's frames per second through the whole build (probe → flow →
select → shards) over ffmpeg's frames per second decoding it alone (``-f null``, its default
threads), and beside it the ceiling of that ratio on this machine: the build cannot be faster
than its decoding and downsampling plus the default flow's own CPU time spread over every core,
nor than the slower of the two. Also: the pairs whose flow was skipped (flow.skip: they cannot
change the selection; ``--no-skip`` computes every pair), CPU time per stage, peak memory, and
the bytes written besides the shards. Without ``--clip`` it renders a 1280×720, 240 fps demo
clip first (not timed), or with ``--stretches 0.5:4,2.5:4`` a pan at those speeds
(:mod:`wilddeblur.video.exposure`; here half calm, half at 2.5 px per downsampled frame).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")  # before tqdm is imported

import numpy as np
import pandas as pd

from wilddeblur.dataset.select import SelectionSettings
from wilddeblur.dataset.stages import average, select
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.flow.skip import SkipRule
from wilddeblur.flow.stages import flow_stage
from wilddeblur.flow.stats import PairStatistics
from wilddeblur.video.demo import render_clip
from wilddeblur.video.downsample import stream_video
from wilddeblur.video.exposure import parse_stretches, render_stretch_clip, stretch_scene
from wilddeblur.video.stages import probe_video


def clock() -> tuple[float, float]:
    """(wall, CPU of this process and its finished children), seconds."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(stage, *args, **kwargs) -> tuple[float, float]:
    """(wall, CPU) seconds of one call."""
    w0, c0 = clock()
    stage(*args, **kwargs)
    w1, c1 = clock()
    return w1 - w0, c1 - c0


def decode_only(clip: Path) -> tuple[float, float]:
    """ffmpeg decoding every frame and discarding it."""
    return timed(subprocess.run, ["ffmpeg", "-v", "error", "-nostdin", "-i", str(clip), "-f",
                                  "null", "-"], check=True)


def ceiling(clip: Path, info_json: Path, settings: FlowSettings, threads: int,
            skip: SkipRule) -> dict[str, float]:
    """The parts of the flow pass alone: decoding + downsampling into this process, and the
    flow statistics on frames already in memory (on ``threads`` threads, skipping as the
    build does)."""
    from wilddeblur.video.probe import VideoInfo

    info = VideoInfo.from_json(info_json)
    chunks: list[np.ndarray] = []
    wall_dec, cpu_dec = timed(stream_video, info, 3, chunks.append)
    frames = np.concatenate(chunks)
    with PairStatistics(settings.make_backends(threads), settings.region_px,
                        settings.border_px, skip if settings.skip else None,
                        settings.evidence) as stats:
        wall_flow, cpu_flow = timed(lambda: (stats.add(frames), stats.end()))
    return {"decode+downsample wall": wall_dec, "decode+downsample cpu": cpu_dec,
            "flow wall": wall_flow, "flow cpu": cpu_flow}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clip", type=Path, default=None)
    p.add_argument("--seconds", type=float, default=4.0, help="length of the rendered clip")
    p.add_argument("--stretches", default=None, metavar="SPEED:SECONDS,...",
                   help="without --clip, render a pan at these speeds (downsampled px per frame) "
                        "instead, e.g. 0.5:4,2.5:4: half calm, half fast")
    p.add_argument("--preset", default=FlowSettings().dis_preset,
                   choices=["ultrafast", "fast", "medium"])
    p.add_argument("--samples-per-shard", type=int, default=256)
    cores = len(os.sched_getaffinity(0))
    p.add_argument("--threads", type=int, default=min(cores, 2),
                   help="flow threads (the flow rule's default: 2)")
    p.add_argument("--skip", action=argparse.BooleanOptionalAction, default=FlowSettings().skip,
                   help="flow.skip")
    p.add_argument("--evidence", type=float, default=FlowSettings().evidence,
                   help="flow.evidence (0 = off)")
    args = p.parse_args()
    settings = FlowSettings(dis_preset=args.preset, skip=args.skip, evidence=args.evidence)
    skip = SelectionSettings().skip_rule
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip = args.clip
        if clip is None and args.stretches:
            clip = work / "stretches.mp4"
            render_stretch_clip(stretch_scene(parse_stretches(args.stretches)), clip)
        elif clip is None:
            clip = work / "demo-train-a.mp4"
            render_clip("demo-train-a", clip, seconds=args.seconds)
        name = clip.stem
        (work / "probe").mkdir()
        probe_json = work / "probe" / f"{name}.json"
        times = {"probe": timed(probe_video, clip, probe_json)}
        frames = json.loads(probe_json.read_text())["frames"]
        decode = decode_only(clip)
        times["flow pass"] = timed(flow_stage, probe_json, work / "flow" / f"{name}.csv", 3,
                                   settings, args.threads, skip)
        skipped = int(pd.read_csv(work / "flow" / f"{name}.csv")["skipped"].sum())
        times["select"] = timed(select, [work / "flow" / f"{name}.csv"], work / "probe",
                                work / "selection.csv", SelectionSettings(),
                                fixed_splits={name: "train"},
                                samples_per_shard=args.samples_per_shard)
        sel = pd.read_csv(work / "selection.csv")
        shards = sorted(sel.loc[sel["kept"], "shard"].unique())
        w0, c0 = clock()
        for k in shards:
            average(work / "selection.csv", "train", int(k), work / "probe",
                    work / "dataset" / "train" / f"shard-{k:05d}.h5")
        w1, c1 = clock()
        times["shards"] = (w1 - w0, c1 - c0)
        shard_bytes = sum(f.stat().st_size for f in (work / "dataset").rglob("*.h5"))
        other_bytes = sum(f.stat().st_size for f in work.rglob("*")
                          if f.is_file() and f.suffix in (".csv", ".json"))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        parts = ceiling(clip, probe_json, settings, args.threads, skip)
    build_wall = sum(w for w, _ in times.values())
    build_cpu = sum(c for _, c in times.values())
    best_wall = max(parts["decode+downsample wall"], parts["flow wall"],
                    (parts["decode+downsample cpu"] + parts["flow cpu"]) / cores)
    print(f"clip: {clip.name if args.clip else 'demo-train-a (rendered)'}, {frames} frames, "
          f"{cores} cores, DIS {args.preset} on {args.threads} thread(s), "
          f"flow.evidence {args.evidence:g}")
    print(f"ffmpeg decode only: {frames / decode[0]:8.1f} frames/s ({decode[1]:.1f} CPU-s)")
    print(f"whole build:        {frames / build_wall:8.1f} frames/s ({build_cpu:.1f} CPU-s), "
          f"{int(sel['kept'].sum())} samples in {len(shards)} shard(s)")
    print(f"flow skipped for {skipped} of {frames - 1} pairs ({skipped / (frames - 1):.0%}; "
          f"flow.skip {'on' if args.skip else 'off'})")
    print(f"{decode[0] / build_wall:.2f}x decode   (ceiling {decode[0] / best_wall:.2f}x: "
          f"decode+downsample {parts['decode+downsample cpu']:.1f} CPU-s, "
          f"flow {parts['flow cpu']:.1f} CPU-s, on {cores} cores)")
    print("per stage, wall / CPU (s): " + ", ".join(f"{k} {w:.2f} / {c:.2f}"
                                                   for k, (w, c) in times.items()))
    print(f"peak RSS: this process {rss:.0f} MB, largest ffmpeg {kids:.0f} MB")
    print(f"disk: shards {shard_bytes / 1e6:.1f} MB; everything else "
          f"(probe, flow table, selection) {other_bytes / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
