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
        elif default is None:  # "int | None", "str | None", ...: the annotation's first type
            kind = {"int": int, "float": float, "str": str}[str(field.type).split("|")[0].strip()]
            parser.add_argument(flag, type=kind, default=None, help="(default: none)")
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
                 warn_fps=args.warn_fps, image_fps=args.image_fps)
    write_text_atomic(Path(args.output), info.to_json())


def cmd_downsample(args):
    from wilddeblur.downsample import downsample_video
    from wilddeblur.probe import VideoInfo

    flow = None
    if args.flow_output:
        from wilddeblur.flow import PairStatistics, make_backend

        flow = PairStatistics(make_backend(args.backend, **flow_options(args)), args.region_px)
    n = downsample_video(VideoInfo.from_json(Path(args.probe)), Path(args.output), args.factor,
                         flow)
    if flow is not None:
        write_csv_atomic(flow.table(), Path(args.flow_output))
    print(f"{args.output}: {n} frames")


def flow_options(args) -> dict:
    """Backend options from the flow flags; FlowNet backends need a weights file."""
    if args.backend.startswith("flownet") and not args.weights:
        raise ValueError(f"flow.weights: the {args.backend} backend needs a weights file")
    return {"dis": {"preset": args.dis_preset}, "farneback": {}}.get(
        args.backend, {"weights": args.weights, "device": args.device})


def cmd_flow(args):
    from wilddeblur.flow import flow_table, make_backend
    from wilddeblur.framestore import FrameStore

    with FrameStore(Path(args.frames)) as store:
        table = flow_table(store, make_backend(args.backend, **flow_options(args)),
                           desc=f"flow {Path(args.frames).stem}", region_px=args.region_px)
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
    from wilddeblur.average import Averaging
    from wilddeblur.shards import write_shard

    sel = pd.read_csv(args.selection)
    rows = sel[sel["kept"] & (sel["split"] == args.split) & (sel["shard"] == args.shard)]
    stores = {v: Path(args.frames_dir) / f"{v}.h5" for v in rows["video"].unique()}
    write_shard(Path(args.output), rows, stores, args.settings_hash,
                settings_from(args, Averaging), seed=args.seed)


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
    man = pd.read_csv(args.manifest)
    message = (f"{args.manifest}: every shard matches its checksum "
               f"({man['file'].nunique()} shards, {len(man)} samples)")
    print(message)
    if args.output:
        write_text_atomic(Path(args.output), message + "\n")


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
    val = split_shards(Path(args.manifest), args.val_split) if args.val_split else []
    train(shards, Path(args.out_dir), s, args.settings_hash, name=args.name, dataset=dataset,
          val_shards=val)


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


def cmd_baseline(args):
    from wilddeblur.baselines import run_baseline

    run_baseline(Path(args.manifest), args.method, Path(args.output),
                 bank=Path(args.bank) if args.bank else None, split=args.split,
                 name=args.name, max_images=args.max_images, protocol=args.protocol,
                 seed=args.seed, examples_dir=Path(args.examples) if args.examples else None,
                 kernels_out=Path(args.kernels) if args.kernels else None,
                 params=json.loads(args.params) if args.params else None)


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
    selection = pd.read_csv(args.selection)
    write_report(per_image, selection, pd.read_csv(args.train_log), out,
                 "examples.png", context, si_per_image=si, kernels_figure=kernels)
    extra = []
    if args.manifest:
        from wilddeblur.external import real_blurry_images
        from wilddeblur.figures import figures_markdown, report_figures
        from wilddeblur.train import load_model, pick_device

        device = pick_device(args.device)
        model = load_model(Path(args.model), device) if args.model else None
        figs = report_figures(
            Path(args.figures_dir) if args.figures_dir else out / "figures", selection,
            pd.read_csv(args.manifest), Path(args.dataset_root), model, per_image, args.method,
            device, args.tile or None, args.n_extremes,
            real_blurry_images(Path(args.real_blurry)) if args.real_blurry else None,
            args.real_max_side)
        extra.append(figures_markdown(figs, out))
    if args.external_evaluations:
        from wilddeblur.external import summarise_external
        from wilddeblur.report import markdown_table

        ext = summarise_external(pd.concat([pd.read_csv(p) for p in args.external_evaluations],
                                           ignore_index=True))
        ext.to_csv(out / "external.csv", index=False)
        extra.append("## Other test sets\n\nMean of per-image values, conventions as Table 2."
                     "\n\n" + markdown_table(ext) + "\n")
    if args.verify:
        extra.append("## Dataset check\n\n`wilddeblur verify`: "
                     + Path(args.verify).read_text().strip() + "\n")
    if extra:
        md = out / "report.md"
        write_text_atomic(md, md.read_text() + "\n" + "\n".join(extra))


def cmd_evaluate_external(args):
    from wilddeblur.external import evaluate_external, gopro_pairs, list_pairs
    from wilddeblur.train import load_model, pick_device

    if args.gopro_root:
        pairs = gopro_pairs(Path(args.gopro_root), args.gopro_split, args.gopro_blur_dir)
    else:
        pairs = list_pairs(Path(args.list), Path(args.list_root) if args.list_root else None,
                           args.list_order)
    device = pick_device(args.device)
    model = load_model(Path(args.checkpoint), device) if args.checkpoint else None
    table = evaluate_external(pairs, args.method, model, device, args.tile or None, args.factor,
                              args.max_images, args.set,
                              Path(args.examples) if args.examples else None)
    write_csv_atomic(table, Path(args.output))
    print(f"{args.set} {args.method}: {len(table)} images, PSNR {table['psnr'].mean():.3f} dB, "
          f"SSIM {table['ssim'].mean():.4f}")


def cmd_deblur(args):
    from wilddeblur.deblur import deblur_paths, default_checkpoint, plan_outputs
    from wilddeblur.train import load_model, pick_device

    plan = plan_outputs([Path(p) for p in args.inputs], Path(args.output))
    checkpoint = default_checkpoint(args.checkpoint)
    device = pick_device(args.device)
    written = deblur_paths(plan, load_model(checkpoint, device), device, args.tile or None)
    print(f"wrote {len(written)} file(s) with {checkpoint}: "
          + ", ".join(str(p) for p in written[:5]) + (" ..." if len(written) > 5 else ""))


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_csv_atomic(df: pd.DataFrame, path: Path) -> None:
    write_text_atomic(path, df.to_csv(index=False))


def add_flow_flags(sp: argparse.ArgumentParser) -> None:
    from wilddeblur.flow import BACKENDS
    from wilddeblur.flow.backends import DIS_PRESETS
    from wilddeblur.flow.stats import REGION_PX

    sp.add_argument("--backend", choices=sorted(BACKENDS), default="dis")
    sp.add_argument("--dis-preset", choices=sorted(DIS_PRESETS), default="medium")
    sp.add_argument("--weights", default=None, help="FlowNet checkpoint (flownets/flownetc)")
    sp.add_argument("--device", default="auto", help="FlowNet device: auto, cpu, cuda")
    sp.add_argument("--region-px", type=int, default=REGION_PX,
                    help="the 'region' statistic: the flow magnitude that at least this many "
                         "downsampled pixels reach")


def build_parser() -> argparse.ArgumentParser:
    from wilddeblur.average import Averaging
    from wilddeblur.demo import DEMO_CLIPS
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

    sp = add("downsample", cmd_downsample,
             "Decode a video, downsample it (area filter), store the frames losslessly.")
    sp.add_argument("probe", help="JSON written by `wilddeblur probe`")
    sp.add_argument("-o", "--output", required=True, help="frame store (.h5)")
    sp.add_argument("--factor", type=int, default=3)
    sp.add_argument("--flow-output", default=None, metavar="CSV",
                    help="also compute the per-pair flow table in the same pass")
    add_flow_flags(sp)

    sp = add("flow", cmd_flow, "Flow statistics for every consecutive pair of a frame store.")
    sp.add_argument("frames", help="frame store (.h5)")
    sp.add_argument("-o", "--output", required=True, help="per-pair table (.csv)")
    add_flow_flags(sp)

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
    sp.add_argument("--seed", type=int, default=0, help="seeds the optional noise")
    add_dataclass_flags(sp, Averaging)
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

    sp = add("train", cmd_train, "Train DeblurNet on the train split (resumes from last.pt). "
             "Several GPUs: torchrun --standalone --nproc-per-node N -m wilddeblur train ...")
    sp.add_argument("--manifest", required=True)
    sp.add_argument("--out-dir", required=True)
    sp.add_argument("--name", default="DeblurNetWILD")
    sp.add_argument("--settings-hash", default="")
    add_dataclass_flags(sp, TrainSettings)
    sp.add_argument("--val-split", default="test",
                    help="split whose first --val-images images are scored every --val-every "
                         "steps (monitoring only; '' for none)")
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

    sp = add("baseline", cmd_baseline,
             "Score a classical baseline of Table 2: L0 blind deblurring (Xu et al. 2013) or "
             "the non-blind oracle with the SI test set's true kernels.")
    sp.add_argument("--method", required=True, choices=["l0", "oracle"])
    sp.add_argument("--manifest", required=True)
    sp.add_argument("--split", default="test")
    sp.add_argument("--bank", default=None, help="kernel bank (.h5); the oracle needs it")
    sp.add_argument("--name", default=None,
                    help="method column (default: 'Xu et al. 2013' / 'oracle-wiener')")
    sp.add_argument("--params", default=None,
                    help="JSON object of the method's parameters (l0: L0Params fields; "
                         "oracle: deconvolution and its function's parameters)")
    sp.add_argument("--max-images", type=int, default=None)
    sp.add_argument("--protocol", type=int, default=None,
                    help="only the report's test-N protocol images, drawn with --seed")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--examples", default=None, help="folder for the first outputs as PNG")
    sp.add_argument("--kernels", default=None, help="l0: .npz of the estimated kernels")
    sp.add_argument("-o", "--output", required=True)

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
    sp.add_argument("--manifest", default=None,
                    help="dataset manifest.csv: enables the figures (dataset statistics, Fig. 2; "
                         "with --model also Figs. 9-10 and the real-photo panel)")
    sp.add_argument("--model", default=None, help="model.pt for Figs. 9-10 and real photos")
    sp.add_argument("--figures-dir", default=None, help="default: OUTPUT_DIR/figures")
    sp.add_argument("--real-blurry", default=None,
                    help="folder of real blurry photos (default: skimage.data.clock())")
    sp.add_argument("--real-max-side", type=int, default=640,
                    help="area-downsample photos longer than this first (0 = never)")
    sp.add_argument("--n-extremes", type=int, default=2,
                    help="images with the highest and with the lowest residual in Fig. 10")
    sp.add_argument("--device", default="auto")
    sp.add_argument("--tile", type=int, default=0, help="tile size; 0 = whole image")
    sp.add_argument("--external-evaluations", nargs="*", default=[],
                    help="per-image tables from evaluate-external, summarised per set")
    sp.add_argument("--verify", default=None, metavar="TXT",
                    help="result of `wilddeblur verify -o`, quoted in the report")

    sp = add("evaluate-external", cmd_evaluate_external,
             "Per-image PSNR/SSIM on another test set on disk (GoPro layout or list file).")
    which = sp.add_mutually_exclusive_group(required=True)
    which.add_argument("--gopro-root", help="ROOT with ROOT/<split>/<sequence>/blur|sharp/*.png")
    which.add_argument("--list", help="list file, one 'gt_path blur_path' a line (RealBlur)")
    sp.add_argument("--gopro-split", default="test")
    sp.add_argument("--gopro-blur-dir", default="blur", help="blur or blur_gamma")
    sp.add_argument("--list-root", default=None, help="default: the list file's folder")
    sp.add_argument("--list-order", choices=["gt-blur", "blur-gt"], default="gt-blur")
    sp.add_argument("--set", required=True, help="name of the set in the report (e.g. gopro)")
    sp.add_argument("--method", required=True)
    sp.add_argument("--checkpoint", default=None, help="model.pt; none scores the blurry input")
    sp.add_argument("--factor", type=int, default=1,
                    help="area-downsample blurry and sharp by this factor first (3 = WILD scale)")
    sp.add_argument("--device", default="auto")
    sp.add_argument("--tile", type=int, default=0)
    sp.add_argument("--max-images", type=int, default=None)
    sp.add_argument("--examples", default=None, help="folder for the first outputs as PNG")
    sp.add_argument("-o", "--output", required=True)

    sp = add("deblur", cmd_deblur,
             "Deblur photos and videos (files or folders) with a trained DeblurNet.")
    sp.add_argument("inputs", nargs="+", help="images, videos, or folders of them")
    sp.add_argument("-o", "--output", required=True,
                    help="output folder (PNG / MP4), or, for one input, the output file "
                         "(an image or video suffix)")
    sp.add_argument("--checkpoint", default=None,
                    help="model.pt from `wilddeblur train` (default: the workflow's "
                         "results/train/DeblurNetWILD/model.pt, when it exists)")
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
