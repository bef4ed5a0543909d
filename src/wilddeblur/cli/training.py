"""``wilddeblur`` subcommands that train: train (DeblurNet or NAFNet, on WILD pairs or synthetic
blur), export-checkpoint, kernels, si-test, train-flow. Each calls the function the workflow's
script calls."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from wilddeblur.cli.common import add_dataclass_flags, settings_from


def cmd_train(args):
    from wilddeblur.models.registry import ModelSpec, get
    from wilddeblur.training.settings import TrainSettings
    from wilddeblur.training.stages import SyntheticBlur, train_network

    synthetic = None
    if args.synthetic_kernels:
        synthetic = SyntheticBlur(Path(args.synthetic_kernels), args.noise_sigma,
                                  args.wild_sharp, [Path(d) for d in args.sharp_dirs])
    params = {name: getattr(args, param_dest(p.flag)) for name, p in get(args.arch).params.items()}
    train_network(Path(args.manifest), Path(args.out_dir), settings_from(args, TrainSettings),
                  args.settings_hash, args.name, synthetic, args.val_split,
                  model=ModelSpec(args.arch, params))


def param_dest(flag: str) -> str:
    return flag.removeprefix("--").replace("-", "_")


def add_arch_flags(sp: argparse.ArgumentParser) -> None:
    """``--arch`` and each registered network's hyper-parameter flags (its registry entry)."""
    from wilddeblur.models.registry import ARCHS

    sp.add_argument("--arch", choices=list(ARCHS), default="deblurnet")
    for arch in ARCHS.values():
        for name, p in arch.params.items():
            kind = type(p.default[0] if isinstance(p.default, list) else p.default)
            sp.add_argument(p.flag, type=kind, default=p.default,
                            nargs="+" if isinstance(p.default, list) else None,
                            help=f"{arch.name}: {name} (model.{p.key})")


def cmd_export_checkpoint(args):
    from wilddeblur.models.registry import export_official

    print(f"wrote {export_official(Path(args.checkpoint), Path(args.output))}")


def cmd_kernels(args):
    from wilddeblur.training.stages import kernel_bank

    kernel_bank(Path(args.output), args.n, args.seed, args.test_fraction, args.weight_floor,
                Path(args.figure) if args.figure else None)


def cmd_si_test(args):
    from wilddeblur.training.stages import si_test_shard

    si_test_shard(Path(args.manifest), Path(args.bank), Path(args.output), args.split, args.seed,
                  args.noise_sigma, args.max_images, args.settings_hash)


def cmd_train_flow(args):
    from wilddeblur.flow.synthetic import SyntheticSpec
    from wilddeblur.flow.train_flow import train_flownet
    from wilddeblur.flow.train_settings import FlowTrainSettings

    names = {f.name for cls in (FlowTrainSettings, SyntheticSpec) for f in fields(cls)}
    train_flownet(Path(args.out_dir),
                  FlowTrainSettings.from_flat({k: v for k, v in vars(args).items()
                                               if k in names and k != "synthetic"}),
                  [Path(c) for c in args.demo_clips], factor=args.factor)


def register(add) -> None:
    from wilddeblur.flow.synthetic import SyntheticSpec
    from wilddeblur.flow.train_settings import FlowTrainSettings
    from wilddeblur.training.settings import TrainSettings

    sp = add("train", cmd_train, "Train DeblurNet or NAFNet on the train split (resumes from "
             "last.pt). Several GPUs: torchrun --standalone --nproc-per-node N -m wilddeblur "
             "train ...")
    sp.add_argument("--manifest", required=True)
    sp.add_argument("--out-dir", required=True)
    sp.add_argument("--name", default="DeblurNetWILD")
    sp.add_argument("--settings-hash", default="")
    add_arch_flags(sp)
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

    sp = add("export-checkpoint", cmd_export_checkpoint,
             "Write a trained NAFNet as an official NAFNet/BasicSR checkpoint ({'params': ...}, "
             "the authors' key names), for their code or BasicSR.")
    sp.add_argument("checkpoint", help="model.pt or last.pt of a NAFNet")
    sp.add_argument("output", help="the .pth to write")

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

    sp = add("train-flow", cmd_train_flow,
             "Train FlowNetS on synthetic pairs with exact flow (resumes from last.pt); "
             "compare its EPE with DIS and Farneback.")
    sp.add_argument("--out-dir", required=True)
    sp.add_argument("--demo-clips", nargs="*", default=[],
                    help="demo .mp4 files (with .motion.csv) for EPE against true motion")
    sp.add_argument("--factor", type=int, default=3,
                    help="downsampling factor applied to the demo clips (as in the pipeline)")
    add_dataclass_flags(sp, FlowTrainSettings, skip=("synthetic",))
    add_dataclass_flags(sp, SyntheticSpec)
