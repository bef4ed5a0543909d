"""Training curves for the demo: PSNR gain over the blurry input on the test split against
training minutes, for DeblurNet variants (width, learning rate, batch, crop), measured with the
workflow's own training code on a built dataset.

    python benchmarks/demo_training.py --manifest results/dataset/manifest.csv \\
        --steps 1500 --width 0.25 --lr 5e-4 --batch-size 4 --crop 96 [--val-every 250]

Prints one line per validation: steps, minutes, test PSNR of the network and the gain (dB) over
the blurry input on the same images (every test image of the manifest).
"""

from __future__ import annotations

import argparse
import csv
import platform
import tempfile
from pathlib import Path

import numpy as np
import torch

from wilddeblur.dataset.shards import open_shard, split_shards
from wilddeblur.evaluation.metrics import psnr
from wilddeblur.training.loop import train
from wilddeblur.training.settings import TrainSettings


def blurry_psnr(shards: list[Path]) -> tuple[int, float]:
    """Number of test images and the mean PSNR of their blurry inputs."""
    values = []
    for path in shards:
        with open_shard(path) as f:
            values += [psnr(b, s) for b, s in zip(f["blurry"][:], f["sharp"][:], strict=True)]
    return len(values), float(np.mean(values))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", type=Path, default=Path("results/dataset/manifest.csv"))
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--width", type=float, default=0.25)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--val-every", type=int, default=250)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="keep the run here (log.csv, model)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    train_shards = split_shards(args.manifest, "train")
    test_shards = split_shards(args.manifest, "test")
    n_test, base = blurry_psnr(test_shards)
    s = TrainSettings(steps=args.steps, batch_size=args.batch_size, crop=args.crop, lr=args.lr,
                      width=args.width, checkpoint_every=args.steps, log_every=args.val_every,
                      workers=1, device="cpu", val_every=args.val_every, val_images=n_test)
    out = args.out or Path(tempfile.mkdtemp(prefix="demo_training-"))
    print(f"# {platform.machine()} {torch.get_num_threads()} threads, torch {torch.__version__}; "
          f"{args.manifest}: {n_test} test images, blurry {base:.2f} dB; width {args.width}, "
          f"lr {args.lr}, batch {args.batch_size}, crop {args.crop}")
    train(train_shards, out, s, "demo_training", name="curve", val_shards=test_shards)
    print("steps,minutes,psnr,gain_db")
    with open(out / "log.csv") as fh:
        for row in csv.DictReader(fh):
            if row["val_psnr"]:
                val = float(row["val_psnr"])
                print(f"{row['step']},{float(row['seconds']) / 60:.2f},{val:.3f},{val - base:+.3f}")


if __name__ == "__main__":
    main()
