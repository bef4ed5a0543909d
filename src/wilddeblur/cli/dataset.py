"""``wilddeblur`` subcommands from video to dataset: demo, probe, flow, select, average,
manifest, verify, inspect, export. Each calls the function the workflow's script calls."""

from __future__ import annotations

import argparse
from pathlib import Path

from wilddeblur.cli.common import add_dataclass_flags, settings_from


def cmd_demo(args):
    from wilddeblur.video.demo import render_clip

    render_clip(args.name, Path(args.output), width=args.width, height=args.height, fps=args.fps,
                seconds=args.seconds, seed=args.seed, factor=args.factor)


def cmd_probe(args):
    from wilddeblur.video.stages import probe_video

    probe_video(Path(args.video), Path(args.output), fps=args.fps, min_fps=args.min_fps,
                warn_fps=args.warn_fps, image_fps=args.image_fps)


def cmd_flow(args):
    from wilddeblur.dataset.select import SelectionSettings
    from wilddeblur.flow.settings import FlowSettings
    from wilddeblur.flow.stages import flow_stage

    rule = settings_from(args, SelectionSettings).skip_rule
    flow_stage(Path(args.probe), Path(args.output), args.factor, settings_from(args, FlowSettings),
               args.threads, rule)


def cmd_select(args):
    from wilddeblur.dataset.select import SelectionSettings
    from wilddeblur.dataset.stages import select

    select([Path(p) for p in args.flow], Path(args.probe_dir), Path(args.output),
           settings_from(args, SelectionSettings), args.test_videos, args.test_fraction,
           dict(kv.split("=", 1) for kv in args.fixed_split), args.samples_per_shard, args.factor)


def cmd_average(args):
    from wilddeblur.dataset.average import Averaging
    from wilddeblur.dataset.stages import average
    from wilddeblur.flow.settings import FlowSettings

    average(Path(args.selection), args.split, args.shard, Path(args.probe_dir),
            Path(args.output), args.settings_hash, settings_from(args, Averaging), args.seed,
            args.factor, Path(args.flow_dir) if args.flow_dir else None, args.interpolate,
            settings_from(args, FlowSettings))


def cmd_manifest(args):
    from wilddeblur.dataset.stages import write_manifest

    write_manifest([Path(p) for p in args.shards], Path(args.output))


def cmd_verify(args):
    from wilddeblur.dataset.stages import verify_manifest

    verify_manifest(Path(args.manifest), Path(args.output) if args.output else None)


def cmd_inspect(args):
    from skimage.io import imsave

    from wilddeblur.dataset.shards import open_shard

    with open_shard(Path(args.shard)) as f:
        print(f"{args.shard}: {f['blurry'].shape[0]} samples of {f['blurry'].shape[1:]}")
        for k, v in f.attrs.items():
            print(f"  {k}: {v}")
        if args.dump:
            out = Path(args.dump)
            out.mkdir(parents=True, exist_ok=True)
            for i in range(f["blurry"].shape[0])[: args.limit]:
                imsave(out / f"{i:05d}-blurry.png", f["blurry"][i], check_contrast=False)
                imsave(out / f"{i:05d}-sharp.png", f["sharp"][i], check_contrast=False)
            print(f"  wrote PNGs to {out}")


def cmd_export(args):
    from wilddeblur.dataset.stages import export

    export(Path(args.manifest), Path(args.out), args.layout, args.split, args.force)


def add_flow_flags(sp: argparse.ArgumentParser) -> None:
    """The flow backend's settings."""
    from wilddeblur.flow import BACKENDS
    from wilddeblur.flow.backends import DIS_PRESETS
    from wilddeblur.flow.settings import FlowSettings

    d = FlowSettings()
    sp.add_argument("--backend", choices=sorted(BACKENDS), default=d.backend)
    sp.add_argument("--dis-preset", choices=sorted(DIS_PRESETS), default=d.dis_preset)
    sp.add_argument("--weights", default=d.weights, help="FlowNet checkpoint (flownets/flownetc)")
    sp.add_argument("--device", default=d.device, help="FlowNet device: auto, cpu, cuda")
    sp.add_argument("--region-px", type=int, default=d.region_px,
                    help="the 'region' statistic: the flow magnitude that at least this many "
                         "downsampled pixels reach")
    sp.add_argument("--border-px", type=int, default=d.border_px,
                    help="frame margin (downsampled pixels) that the magnitude statistics ignore")
    sp.add_argument("--evidence", type=float, default=d.evidence,
                    help="8-bit levels a motion must change in the frames to count (0 = off)")


def add_skip_flags(sp: argparse.ArgumentParser) -> None:
    """The flow stage's skipping and the selection rule it skips by."""
    from wilddeblur.dataset.select import SelectionSettings
    from wilddeblur.flow import STATISTICS
    from wilddeblur.flow.settings import FlowSettings

    sp.add_argument("--skip", action=argparse.BooleanOptionalAction, default=FlowSettings().skip,
                    help="skip the pairs that cannot change the selection under the flow check "
                         "of --statistic, --threshold x --interpolate and --guard-pairs (select's)")
    s = SelectionSettings()
    sp.add_argument("--statistic", choices=STATISTICS, default=s.statistic)
    sp.add_argument("--threshold", type=float, default=s.threshold)
    sp.add_argument("--interpolate", type=int, default=s.interpolate)
    sp.add_argument("--guard-pairs", type=int, default=s.guard_pairs)


def register(add) -> None:
    from wilddeblur.dataset.average import Averaging
    from wilddeblur.dataset.export import LAYOUTS
    from wilddeblur.dataset.select import SelectionSettings
    from wilddeblur.video.demo import DEMO_CLIPS

    sp = add("demo", cmd_demo, "Render an embedded demo clip (240 fps, real photos, true motion).")
    sp.add_argument("name", help=f"one of {', '.join(sorted(DEMO_CLIPS))}, or rendered-train-N / "
                    "rendered-test-N (photos drawn by the name)")
    sp.add_argument("-o", "--output", required=True, help="output .mp4; motion goes to .motion.csv")
    sp.add_argument("--width", type=int, default=1280)
    sp.add_argument("--height", type=int, default=720)
    sp.add_argument("--fps", type=float, default=240.0)
    sp.add_argument("--seconds", type=float, default=2.0)
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--factor", type=int, default=3, help="downsampling factor the speeds refer to")

    sp = add("probe", cmd_probe, "Probe a video with ffprobe (fps, size, rotation, frames).")
    sp.add_argument("video", help="a video file, or a folder of frames (an image sequence)")
    sp.add_argument("-o", "--output", required=True, help="JSON file")
    sp.add_argument("--fps", type=float, default=None, help="override the container's frame rate")
    sp.add_argument("--min-fps", type=float, default=0.0, help="refuse videos below this rate")
    sp.add_argument("--warn-fps", type=float, default=120.0, help="warn below this rate")
    sp.add_argument("--image-fps", type=float, default=240.0,
                    help="frame rate of an image-sequence folder (without --fps)")

    sp = add("flow", cmd_flow, "Decode a video, downsample it (area filter) and take the flow "
             "statistics of every consecutive pair, in one pass; no frame is stored.")
    sp.add_argument("probe", help="JSON written by `wilddeblur probe`")
    sp.add_argument("-o", "--output", required=True, help="per-pair table (.csv)")
    sp.add_argument("--factor", type=int, default=3, help="spatial downsampling factor")
    sp.add_argument("--threads", type=int, default=1,
                    help="flow threads (DIS and Farneback: one pair each at a time)")
    add_flow_flags(sp)
    add_skip_flags(sp)

    sp = add("select", cmd_select,
             "Choose windows of Ne frames that pass the flow and matching checks; split; shard.")
    sp.add_argument("flow", nargs="+", help="per-pair flow tables, one per video ({video}.csv)")
    sp.add_argument("--probe-dir", required=True, help="folder of the probes ({video}.json)")
    sp.add_argument("--factor", type=int, default=3, help="spatial downsampling factor")
    sp.add_argument("-o", "--output", required=True, help="selection table (.csv)")
    sp.add_argument("--test-videos", nargs="*", default=[], help="glob patterns of test videos")
    sp.add_argument("--test-fraction", type=float, default=0.2)
    sp.add_argument("--fixed-split", nargs="*", default=[], metavar="VIDEO=SPLIT")
    sp.add_argument("--samples-per-shard", type=int, default=256)
    add_dataclass_flags(sp, SelectionSettings)

    sp = add("average", cmd_average, "Build one shard: blurry = mean of Ne frames, sharp = centre.")
    sp.add_argument("selection")
    sp.add_argument("--split", required=True)
    sp.add_argument("--shard", type=int, required=True)
    sp.add_argument("--probe-dir", required=True,
                    help="folder of the probes ({video}.json); the videos are decoded again")
    sp.add_argument("--flow-dir", default=None,
                    help="folder of the flow tables ({video}.csv): seek to the shard's first "
                         "frame and check every frame's fingerprint")
    sp.add_argument("--factor", type=int, default=3, help="spatial downsampling factor")
    sp.add_argument("--settings-hash", default="")
    sp.add_argument("--seed", type=int, default=0, help="seeds the optional noise and saturation")
    sp.add_argument("--interpolate", type=int, default=1,
                    help="k: synthesise k - 1 frames between consecutive frames before averaging "
                         "(from the flow of --backend; 1 = the paper)")
    add_dataclass_flags(sp, Averaging)
    add_flow_flags(sp)
    sp.add_argument("-o", "--output", required=True)

    sp = add("manifest", cmd_manifest, "One row per sample of the given shards, with checksums.")
    sp.add_argument("shards", nargs="+")
    sp.add_argument("-o", "--output", required=True)

    sp = add("verify", cmd_verify, "Check every shard of a manifest against its checksum.")
    sp.add_argument("manifest")
    sp.add_argument("-o", "--output", default=None,
                    help="also write the result here when every shard is intact")

    sp = add("inspect", cmd_inspect, "Summarise a shard; optionally dump samples as PNG.")
    sp.add_argument("shard")
    sp.add_argument("--dump", default=None, metavar="DIR")
    sp.add_argument("--limit", type=int, default=8)

    sp = add("export", cmd_export, "Write a dataset's pairs as PNG folders for other frameworks: "
             "GoPro_Large's layout or BasicSR's paired folders, with a list file.")
    sp.add_argument("manifest", help="results/dataset/manifest.csv")
    sp.add_argument("out", help="folder to create (written beside it, renamed when complete)")
    sp.add_argument("--layout", required=True, choices=LAYOUTS,
                    help="gopro: SPLIT/VIDEO/blur|sharp/*.png; paired: SPLIT/input|target/*.png")
    sp.add_argument("--split", default=None, help="only this split (default: every split)")
    sp.add_argument("--force", action="store_true",
                    help="replace a non-empty OUT (once the new export is complete)")
