"""``wilddeblur`` subcommands that score and show: baseline, evaluate, report,
evaluate-external, deblur. Each calls the function the workflow's script calls."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def cmd_baseline(args):
    from wilddeblur.evaluation.baselines import run_baseline

    run_baseline(Path(args.manifest), args.method, Path(args.output), bank=_path(args.bank),
                 checkpoint=_path(args.checkpoint),
                 split=args.split, name=args.name, max_images=args.max_images,
                 protocol=args.protocol, seed=args.seed, examples_dir=_path(args.examples),
                 kernels_out=_path(args.kernels),
                 params=json.loads(args.params) if args.params else None)


def cmd_evaluate(args):
    from wilddeblur.evaluation.stages import evaluate_split

    evaluate_split(Path(args.manifest), Path(args.output), args.method, args.split,
                   _path(args.checkpoint), args.device, _path(args.examples), args.max_images,
                   args.tile or None)


def cmd_report(args):
    from wilddeblur.report.stages import FigureOptions, ReportInputs, TrainedRun, build_report

    train, examples = Path(args.train_root), Path(args.examples_root)
    runs = {name: TrainedRun(train / name / "model.pt", train / name / "history.csv",
                             examples / f"{name}-examples") for name in args.networks}
    inputs = ReportInputs(
        [Path(p) for p in args.evaluations], Path(args.selection), runs,
        shards=sorted(Path(args.dataset_root).glob("*/shard-*.h5")), manifest=_path(args.manifest),
        si_evaluations=[Path(p) for p in args.si_evaluations],
        kernels_figure=_path(args.kernels_figure),
        external_evaluations=[Path(p) for p in args.external_evaluations],
        verify=_path(args.verify), probes=[Path(p) for p in args.probes])
    figures = FigureOptions(args.figures, _path(args.real_blurry), args.real_max_side,
                            args.n_extremes, args.device, args.tile or None)
    build_report(inputs, Path(args.output_dir) / "report.md", _path(args.figures_dir),
                 json.loads(args.context) if args.context else None, figures)


def cmd_evaluate_external(args):
    from wilddeblur.evaluation.stages import evaluate_external_set

    evaluate_external_set(Path(args.output), args.set, args.method, _path(args.gopro_root),
                          args.gopro_split, args.gopro_blur_dir, _path(args.list),
                          _path(args.list_root), args.list_order, _path(args.checkpoint),
                          args.factor, args.device, args.tile or None, args.max_images,
                          _path(args.examples), _path(args.paired_root))


def cmd_deblur(args):
    from wilddeblur.deploy.onnx_runtime import load_network
    from wilddeblur.evaluation.deblur import deblur_paths, default_checkpoint, plan_outputs

    plan = plan_outputs([Path(p) for p in args.inputs], Path(args.output), args.force)
    checkpoint = default_checkpoint(args.checkpoint)
    model, device = load_network(checkpoint, args.device)
    written = deblur_paths(plan, model, device, args.tile or None)
    print(f"wrote {len(written)} file(s) with {checkpoint}: "
          + ", ".join(str(p) for p in written[:5]) + (" ..." if len(written) > 5 else ""))


def register(add) -> None:
    sp = add("baseline", cmd_baseline,
             "Score a classical baseline of Table 2: uniform L0 blind deblurring (after Xu et "
             "al. 2013), Xu & Jia 2010, Sun et al. 2015 (needs --checkpoint), or the "
             "non-blind oracle with the SI test set's true kernels.")
    sp.add_argument("--method", required=True, choices=["l0", "xu_jia", "sun2015", "oracle"])
    sp.add_argument("--manifest", required=True)
    sp.add_argument("--split", default="test")
    sp.add_argument("--bank", default=None, help="kernel bank (.h5); the oracle needs it")
    sp.add_argument("--checkpoint", default=None, help="sun2015: the trained patch CNN (.pt)")
    sp.add_argument("--name", default=None,
                    help="method column (default: 'uniform L0 (after Xu et al. 2013)', "
                         "'Xu & Jia 2010', 'Sun et al. 2015', 'oracle-wiener')")
    sp.add_argument("--params", default=None,
                    help="JSON object of the method's parameters (l0: L0Params, xu_jia: "
                         "XuJiaParams, sun2015: SunParams fields; "
                         "oracle: deconvolution and its function's parameters)")
    sp.add_argument("--max-images", type=int, default=None)
    sp.add_argument("--protocol", type=int, default=None,
                    help="only the report's test-N protocol images, drawn with --seed")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--examples", default=None, help="folder for the first outputs as PNG")
    sp.add_argument("--kernels", default=None, help="l0, xu_jia: .npz of the estimated kernels")
    sp.add_argument("-o", "--output", required=True)

    sp = add("evaluate", cmd_evaluate, "Per-image PSNR/SSIM on a split, full resolution.")
    sp.add_argument("--manifest", required=True)
    sp.add_argument("--split", default="test")
    sp.add_argument("--method", required=True, help="name in the report (e.g. blurry)")
    sp.add_argument("--checkpoint", default=None,
                    help="model.pt, an official NAFNet .pth, or an .onnx from export-onnx "
                         "(run by ONNX Runtime); none scores the blurry input")
    sp.add_argument("--device", default="auto")
    sp.add_argument("--examples", default=None, help="folder for the first outputs as PNG")
    sp.add_argument("--max-images", type=int, default=None)
    sp.add_argument("--tile", type=int, default=0, help="tile size; 0 = whole image")
    sp.add_argument("-o", "--output", required=True)

    sp = add("report", cmd_report, "psnr.csv, report.md and the examples figure.")
    sp.add_argument("--evaluations", nargs="+", required=True)
    sp.add_argument("--selection", required=True)
    sp.add_argument("--networks", nargs="+", required=True,
                    help="trained networks (DeblurNetWILD, NAFNetSI, ...); the best by test PSNR "
                         "is shown in the figures")
    sp.add_argument("--train-root", default="results/train",
                    help="where each network's NAME/history.csv and NAME/model.pt are")
    sp.add_argument("--examples-root", default="results/evaluate",
                    help="where each network's NAME-examples folder is")
    sp.add_argument("--dataset-root", required=True)
    sp.add_argument("--context", default=None, help="JSON with data/selection facts to print")
    sp.add_argument("--si-evaluations", nargs="*", default=[],
                    help="per-image results on the shift-invariant test set")
    sp.add_argument("--kernels-figure", default=None, help="PNG of sample kernels to include")
    sp.add_argument("--output-dir", required=True)
    sp.add_argument("--manifest", default=None,
                    help="dataset manifest.csv: enables the figures (dataset statistics, Fig. 2; "
                         "with --figures also Figs. 9-10 and the real-photo panel)")
    sp.add_argument("--figures", action=argparse.BooleanOptionalAction, default=True,
                    help="Figs. 9-10 and the real-photo panel with the best network")
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
    sp.add_argument("--probes", nargs="*", default=[], metavar="JSON",
                    help="the videos' probes (`wilddeblur probe`): their notes on frame rates "
                         "open the report")

    sp = add("evaluate-external", cmd_evaluate_external,
             "Per-image PSNR/SSIM on another test set on disk (GoPro layout, paired folders or "
             "list file).")
    which = sp.add_mutually_exclusive_group(required=True)
    which.add_argument("--gopro-root", help="ROOT with ROOT/<split>/<sequence>/blur|sharp/*.png")
    which.add_argument("--paired-root",
                       help="ROOT with ROOT/<split>/input|target/*.png (wilddeblur export)")
    which.add_argument("--list", help="list file, one 'gt_path blur_path' a line (RealBlur)")
    sp.add_argument("--gopro-split", default="test",
                    help="the split of --gopro-root or --paired-root")
    sp.add_argument("--gopro-blur-dir", default="blur", help="blur or blur_gamma")
    sp.add_argument("--list-root", default=None, help="default: the list file's folder")
    sp.add_argument("--list-order", choices=["gt-blur", "blur-gt"], default="gt-blur")
    sp.add_argument("--set", required=True, help="name of the set in the report (e.g. gopro)")
    sp.add_argument("--method", required=True)
    sp.add_argument("--checkpoint", default=None,
                    help="model.pt, an official NAFNet .pth, or an .onnx from export-onnx "
                         "(run by ONNX Runtime); none scores the blurry input")
    sp.add_argument("--factor", type=int, default=1,
                    help="area-downsample blurry and sharp by this factor first (3 = WILD scale)")
    sp.add_argument("--device", default="auto")
    sp.add_argument("--tile", type=int, default=0)
    sp.add_argument("--max-images", type=int, default=None)
    sp.add_argument("--examples", default=None, help="folder for the first outputs as PNG")
    sp.add_argument("-o", "--output", required=True)

    sp = add("deblur", cmd_deblur,
             "Deblur photos and videos (files or folders) with a trained network.")
    sp.add_argument("inputs", nargs="+", help="images, videos, or folders of them")
    sp.add_argument("-o", "--output", required=True,
                    help="output folder (PNG / MP4; a folder's inputs go under its name: "
                         "-o out blur/ -> out/blur/*.png), or, for one input, the output file "
                         "(an image or video suffix)")
    sp.add_argument("--force", action="store_true",
                    help="overwrite outputs that exist already (refused otherwise)")
    sp.add_argument("--checkpoint", default=None,
                    help="model.pt from `wilddeblur train`, an official NAFNet/BasicSR .pth, "
                         "or an .onnx from export-onnx, run by ONNX Runtime (default: the "
                         "workflow's results/train/DeblurNetWILD/model.pt, when it exists)")
    sp.add_argument("--device", default="auto")
    sp.add_argument("--tile", type=int, default=512,
                    help="tile size for large inputs, a multiple of 4; 0 = whole image")
