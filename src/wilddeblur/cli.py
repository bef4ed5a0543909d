"""The ``wilddeblur`` command: one subcommand per pipeline stage (the rules call these)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import sys
from pathlib import Path

import pandas as pd

from wilddeblur import __version__


def add_dataclass_flags(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()) -> None:
    """One ``--flag`` per field of a settings dataclass, typed and defaulted from it."""
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        flag = "--" + field.name.replace("_", "-")
        default = field.default
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif default is None:
            parser.add_argument(flag, type=int, default=None, help="(default: none)")
        else:
            parser.add_argument(flag, type=type(default), default=default,
                                help=f"(default: {default})")


def settings_from(args: argparse.Namespace, cls, **extra):
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in vars(args).items() if k in names}, **extra)


def cmd_demo(args):
    from wilddeblur.demo import render_clip

    render_clip(args.name, Path(args.output), width=args.width, height=args.height, fps=args.fps,
                seconds=args.seconds, seed=args.seed, factor=args.factor)


def cmd_probe(args):
    from wilddeblur.probe import probe

    info = probe(Path(args.video), fps_override=args.fps, min_fps=args.min_fps,
                 warn_fps=args.warn_fps)
    write_text_atomic(Path(args.output), info.to_json())


def cmd_downsample(args):
    from wilddeblur.downsample import downsample_video
    from wilddeblur.probe import VideoInfo

    n = downsample_video(VideoInfo.from_json(Path(args.probe)), Path(args.output), args.factor)
    print(f"{args.output}: {n} frames")


def cmd_flow(args):
    from wilddeblur.flow import flow_table, make_backend
    from wilddeblur.framestore import FrameStore

    options = {"dis": {"preset": args.dis_preset}, "farneback": {}}.get(
        args.backend, {"weights": args.weights, "device": args.device})
    if args.backend.startswith("flownet") and not args.weights:
        raise ValueError(f"flow.weights: the {args.backend} backend needs a weights file")
    with FrameStore(Path(args.frames)) as store:
        table = flow_table(store, make_backend(args.backend, **options),
                           desc=f"flow {Path(args.frames).stem}")
    write_csv_atomic(table, Path(args.output))


def cmd_select(args):
    from wilddeblur.framestore import FrameStore
    from wilddeblur.select import SelectionSettings, assign_shards, assign_splits, select_windows

    settings = settings_from(args, SelectionSettings)
    flows = {Path(p).stem: Path(p) for p in args.flow}
    fixed = dict(kv.split("=", 1) for kv in args.fixed_split)
    splits = assign_splits(sorted(flows), args.test_videos, args.test_fraction, settings.seed,
                           fixed)
    tables, sizes = [], {}
    for video, path in sorted(flows.items()):
        with FrameStore(Path(args.frames_dir) / f"{video}.h5") as store:
            sizes[video] = (store.frames.shape[2], store.frames.shape[1])
        table = select_windows(video, pd.read_csv(path), settings)
        table["split"] = splits[video]
        tables.append(table)
    selection = assign_shards(pd.concat(tables, ignore_index=True), sizes, args.samples_per_shard)
    write_csv_atomic(selection, Path(args.output))
    for (split, video), grp in selection.groupby(["split", "video"]):
        print(f"{split:5s} {video}: kept {int(grp['kept'].sum())} of {len(grp)} windows")


def cmd_average(args):
    from wilddeblur.shards import write_shard

    sel = pd.read_csv(args.selection)
    rows = sel[sel["kept"] & (sel["split"] == args.split) & (sel["shard"] == args.shard)]
    stores = {v: Path(args.frames_dir) / f"{v}.h5" for v in rows["video"].unique()}
    write_shard(Path(args.output), rows, stores, args.settings_hash)


def cmd_manifest(args):
    from wilddeblur.shards import manifest

    root = Path(args.output).parent
    write_csv_atomic(manifest([Path(p) for p in args.shards], root), Path(args.output))


def cmd_verify(args):
    from wilddeblur.shards import verify

    problems = verify(Path(args.manifest))
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        raise SystemExit(f"{len(problems)} problem(s) in {args.manifest}")
    print(f"{args.manifest}: every shard matches its checksum")


def cmd_inspect(args):
    from skimage.io import imsave

    from wilddeblur.shards import open_shard

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


def split_shards(manifest_csv: Path, split: str) -> list[Path]:
    man = pd.read_csv(manifest_csv)
    files = man.loc[man["split"] == split, "file"].drop_duplicates()
    return [Path(manifest_csv).parent / f for f in files]


def cmd_train(args):
    from wilddeblur.settings import TrainSettings
    from wilddeblur.train import train

    shards = split_shards(Path(args.manifest), "train")
    s = settings_from(args, TrainSettings)
    dataset = None
    if args.synthetic_kernels:  # DeblurNetSI (§4): shift-invariant synthetic blur
        from wilddeblur.synthetic_blur import SIBatches

        dataset = SIBatches(Path(args.synthetic_kernels), s.batch_size, s.crop, s.seed, s.steps,
                            shards=shards if args.wild_sharp else [],
                            image_dirs=[Path(d) for d in args.sharp_dirs],
                            noise_sigma=args.noise_sigma)
    train(shards, Path(args.out_dir), s, args.settings_hash, name=args.name, dataset=dataset)


def cmd_kernels(args):
    from wilddeblur.kernels import bank_figure, write_kernel_bank

    write_kernel_bank(Path(args.output), args.n, args.seed, args.test_fraction,
                      args.weight_floor)
    if args.figure:
        bank_figure(Path(args.output), Path(args.figure))


def cmd_si_test(args):
    from wilddeblur.synthetic_blur import ShardSharpImages, write_si_test_shard

    images = ShardSharpImages(split_shards(Path(args.manifest), args.split), args.max_images)
    write_si_test_shard(Path(args.output), images, Path(args.bank), args.seed,
                        noise_sigma=args.noise_sigma,
                        sources=[images.source(j) for j in range(len(images))],
                        settings_hash=args.settings_hash)


def cmd_train_flow(args):
    from wilddeblur.flow.train_flow import train_flownet
    from wilddeblur.flow.train_settings import FlowTrainSettings

    train_flownet(Path(args.out_dir), settings_from(args, FlowTrainSettings),
                  [Path(c) for c in args.demo_clips], factor=args.factor)


def cmd_evaluate(args):
    from wilddeblur.evaluate import evaluate
    from wilddeblur.train import load_model, pick_device

    device = pick_device(args.device)
    model = load_model(Path(args.checkpoint), device) if args.checkpoint else None
    table = evaluate(split_shards(Path(args.manifest), args.split), args.method, model, device,
                     examples_dir=Path(args.examples) if args.examples else None,
                     max_images=args.max_images, tile=args.tile or None)
    write_csv_atomic(table, Path(args.output))
    print(f"{args.method}: {len(table)} images, PSNR {table['psnr'].mean():.3f} dB, "
          f"SSIM {table['ssim'].mean():.4f}")


def cmd_report(args):
    from wilddeblur.report import examples_figure, write_report

    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    per_image = pd.concat([pd.read_csv(p) for p in args.evaluations], ignore_index=True)
    examples_figure(per_image, Path(args.dataset_root), Path(args.examples), out / "examples.png",
                    args.method)
    context = json.loads(args.context) if args.context else {}
    context.setdefault("machine", f"{platform.machine()}, {os.cpu_count()} CPUs")
    si = (pd.concat([pd.read_csv(p) for p in args.si_evaluations], ignore_index=True)
          if args.si_evaluations else None)
    kernels = None
    if args.kernels_figure:
        kernels = Path(args.kernels_figure).name
        shutil.copyfile(args.kernels_figure, out / kernels)
    write_report(per_image, pd.read_csv(args.selection), pd.read_csv(args.train_log), out,
                 "examples.png", context, si_per_image=si, kernels_figure=kernels)


def cmd_deblur(args):
    from wilddeblur.deblur import deblur_paths
    from wilddeblur.train import load_model, pick_device

    device = pick_device(args.device)
    written = deblur_paths([Path(p) for p in args.inputs], Path(args.output),
                           load_model(Path(args.checkpoint), device), device, args.tile or None)
    print(f"wrote {len(written)} file(s) to {args.output}")


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_csv_atomic(df: pd.DataFrame, path: Path) -> None:
    write_text_atomic(path, df.to_csv(index=False))


def build_parser() -> argparse.ArgumentParser:
    from wilddeblur.demo import DEMO_CLIPS
    from wilddeblur.flow import BACKENDS
    from wilddeblur.flow.backends import DIS_PRESETS
    from wilddeblur.select import SelectionSettings
    from wilddeblur.settings import TrainSettings

    p = argparse.ArgumentParser(prog="wilddeblur", description=__doc__)
    p.add_argument("--version", action="version", version=f"wilddeblur {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, func, help_):
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=func)
        return sp

    sp = add("demo", cmd_demo, "Render an embedded demo clip (240 fps, real photos, true motion).")
    sp.add_argument("name", choices=sorted(DEMO_CLIPS))
    sp.add_argument("-o", "--output", required=True, help="output .mp4; motion goes to .motion.csv")
    sp.add_argument("--width", type=int, default=1280)
    sp.add_argument("--height", type=int, default=720)
    sp.add_argument("--fps", type=float, default=240.0)
    sp.add_argument("--seconds", type=float, default=2.0)
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--factor", type=int, default=3, help="downsampling factor the speeds refer to")

    sp = add("probe", cmd_probe, "Probe a video with ffprobe (fps, size, rotation, frames).")
    sp.add_argument("video")
    sp.add_argument("-o", "--output", required=True, help="JSON file")
    sp.add_argument("--fps", type=float, default=None, help="override the container's frame rate")
    sp.add_argument("--min-fps", type=float, default=0.0, help="refuse videos below this rate")
    sp.add_argument("--warn-fps", type=float, default=120.0, help="warn below this rate")

    sp = add("downsample", cmd_downsample,
             "Decode a video, downsample it (area filter), store the frames losslessly.")
    sp.add_argument("probe", help="JSON written by `wilddeblur probe`")
    sp.add_argument("-o", "--output", required=True, help="frame store (.h5)")
    sp.add_argument("--factor", type=int, default=3)

    sp = add("flow", cmd_flow, "Flow statistics for every consecutive pair of a frame store.")
    sp.add_argument("frames", help="frame store (.h5)")
    sp.add_argument("-o", "--output", required=True, help="per-pair table (.csv)")
    sp.add_argument("--backend", choices=sorted(BACKENDS), default="dis")
    sp.add_argument("--dis-preset", choices=sorted(DIS_PRESETS), default="medium")
    sp.add_argument("--weights", default=None, help="FlowNet checkpoint (flownets/flownetc)")
    sp.add_argument("--device", default="auto", help="FlowNet device: auto, cpu, cuda")

    sp = add("select", cmd_select,
             "Choose windows of Ne frames that pass the flow and matching checks; split; shard.")
    sp.add_argument("flow", nargs="+", help="per-pair flow tables, one per video ({video}.csv)")
    sp.add_argument("--frames-dir", required=True)
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
    sp.add_argument("--frames-dir", required=True)
    sp.add_argument("--settings-hash", default="")
    sp.add_argument("-o", "--output", required=True)

    sp = add("manifest", cmd_manifest, "One row per sample of the given shards, with checksums.")
    sp.add_argument("shards", nargs="+")
    sp.add_argument("-o", "--output", required=True)

    sp = add("verify", cmd_verify, "Check every shard of a manifest against its checksum.")
    sp.add_argument("manifest")

    sp = add("inspect", cmd_inspect, "Summarise a shard; optionally dump samples as PNG.")
    sp.add_argument("shard")
    sp.add_argument("--dump", default=None, metavar="DIR")
    sp.add_argument("--limit", type=int, default=8)

    sp = add("train", cmd_train, "Train DeblurNet on the train split (resumes from last.pt).")
    sp.add_argument("--manifest", required=True)
    sp.add_argument("--out-dir", required=True)
    sp.add_argument("--name", default="DeblurNetWILD")
    sp.add_argument("--settings-hash", default="")
    add_dataclass_flags(sp, TrainSettings)
    sp.add_argument("--synthetic-kernels", default=None, metavar="BANK",
                    help="train on synthetic blur with this kernel bank (DeblurNetSI, §4)")
    sp.add_argument("--sharp-dirs", nargs="*", default=[], metavar="DIR",
                    help="with --synthetic-kernels: more folders of sharp PNG/JPEG images")
    sp.add_argument("--wild-sharp", action=argparse.BooleanOptionalAction, default=True,
                    help="with --synthetic-kernels: use the train split's sharp images")
    sp.add_argument("--noise-sigma", type=float, default=0.01,
                    help="with --synthetic-kernels: Gaussian noise σ on [0, 1]")

    sp = add("kernels", cmd_kernels,
             "Make the motion-blur kernel bank of DeblurNetSI (Chakrabarti 2016; §4).")
    sp.add_argument("-n", type=int, default=100_000, help="kernels (paper 10^5)")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--test-fraction", type=float, default=0.1, help="last part, held out")
    sp.add_argument("--weight-floor", type=float, default=0.05,
                    help="floor of the path weights (0 = Chakrabarti's clipping)")
    sp.add_argument("-o", "--output", required=True, help="bank (.h5)")
    sp.add_argument("--figure", default=None, help="PNG of sample kernels")

    sp = add("si-test", cmd_si_test,
             "Blur a split's sharp images with held-out kernels into one test shard.")
    sp.add_argument("--manifest", required=True)
    sp.add_argument("--split", default="test")
    sp.add_argument("--bank", required=True)
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--noise-sigma", type=float, default=0.01)
    sp.add_argument("--max-images", type=int, default=None)
    sp.add_argument("--settings-hash", default="")
    sp.add_argument("-o", "--output", required=True, help="shard (.h5)")

    from wilddeblur.flow.train_settings import FlowTrainSettings

    sp = add("train-flow", cmd_train_flow,
             "Train FlowNetS on synthetic pairs with exact flow (resumes from last.pt); "
             "compare its EPE with DIS and Farneback.")
    sp.add_argument("--out-dir", required=True)
    sp.add_argument("--demo-clips", nargs="*", default=[],
                    help="demo .mp4 files (with .motion.csv) for EPE against true motion")
    sp.add_argument("--factor", type=int, default=3,
                    help="downsampling factor applied to the demo clips (as in the pipeline)")
    add_dataclass_flags(sp, FlowTrainSettings)

    sp = add("evaluate", cmd_evaluate, "Per-image PSNR/SSIM on a split, full resolution.")
    sp.add_argument("--manifest", required=True)
    sp.add_argument("--split", default="test")
    sp.add_argument("--method", required=True, help="name in the report (e.g. blurry)")
    sp.add_argument("--checkpoint", default=None, help="model.pt; none scores the blurry input")
    sp.add_argument("--device", default="auto")
    sp.add_argument("--examples", default=None, help="folder for the first outputs as PNG")
    sp.add_argument("--max-images", type=int, default=None)
    sp.add_argument("--tile", type=int, default=0, help="tile size; 0 = whole image")
    sp.add_argument("-o", "--output", required=True)

    sp = add("report", cmd_report, "psnr.csv, report.md and the examples figure.")
    sp.add_argument("--evaluations", nargs="+", required=True)
    sp.add_argument("--selection", required=True)
    sp.add_argument("--train-log", required=True)
    sp.add_argument("--dataset-root", required=True)
    sp.add_argument("--examples", required=True)
    sp.add_argument("--method", default="DeblurNetWILD")
    sp.add_argument("--context", default=None, help="JSON with data/selection facts to print")
    sp.add_argument("--si-evaluations", nargs="*", default=[],
                    help="per-image results on the shift-invariant test set")
    sp.add_argument("--kernels-figure", default=None, help="PNG of sample kernels to include")
    sp.add_argument("--output-dir", required=True)

    sp = add("deblur", cmd_deblur,
             "Deblur photos and videos (files or folders) with a trained DeblurNet.")
    sp.add_argument("inputs", nargs="+", help="images, videos, or folders of them")
    sp.add_argument("-o", "--output", required=True, help="output folder (PNG / MP4)")
    sp.add_argument("--checkpoint", required=True, help="model.pt from `wilddeblur train`")
    sp.add_argument("--device", default="auto")
    sp.add_argument("--tile", type=int, default=512,
                    help="tile size for large inputs, a multiple of 4; 0 = whole image")
    return p


def main(argv: list[str] | None = None) -> None:
    from wilddeblur.videoio import VideoError

    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (VideoError, ValueError, RuntimeError, FileNotFoundError) as err:
        raise SystemExit(f"wilddeblur {args.command}: error: {err}") from err


if __name__ == "__main__":
    main()
