"""Training curves for the demo: gain over the blurry input on the test split against training
minutes, for DeblurNet or NAFNet and their training recipes, measured with the workflow's own
training code on a built dataset.

    python benchmarks/demo_training.py --arch nafnet --steps 2000 --val-every 250 \\
        [--manifest results/dataset/manifest.csv] [--threads 1] [--loss psnr --optimizer adamw \\
        --weight-decay 1e-3 --schedule cosine] [--nafnet-width 16 --enc-blocks 1 1 2 ...]

Prints one line per validation: steps, training minutes (validation excluded), the mean gain
(dB) over the blurry input on every test image, on the blurred ones (blur size >= 1 px, the
manifest's ``blur_size``) and the share of test images the network improves.

``--precision both`` trains twice from the same seed, in fp32 (``train.amp`` off) and with
``train.amp`` on (bf16 autocast where the CPU computes bf16 natively), and prints both curves,
the steps/s of each, and, for the bf16-trained network, how much the test PSNR moves when its
inference too runs in bf16 autocast.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from wilddeblur.dataset.shards import open_shard, split_shards
from wilddeblur.evaluation.inference import deblur_array
from wilddeblur.evaluation.metrics import psnr, to_uint8
from wilddeblur.models.registry import ModelSpec
from wilddeblur.training.loop import train
from wilddeblur.training.settings import TrainSettings


def test_pairs(manifest: Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Every (blurry, sharp) test pair, and whether each is blurred (blur size >= 1 px)."""
    rows = pd.read_csv(manifest)
    pairs, blurred = [], []
    for path in split_shards(manifest, "test"):
        with open_shard(path) as f:
            blurry, sharp = f["blurry"][:], f["sharp"][:]
        sizes = rows[[manifest.parent / f == path for f in rows["file"]]]
        sizes = sizes.sort_values("index")["blur_size"].to_numpy()
        pairs += list(zip(blurry, sharp, strict=True))
        blurred += list(sizes >= 1.0)
    return pairs, np.array(blurred)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", type=Path, default=Path("results/dataset/manifest.csv"))
    ap.add_argument("--arch", choices=["deblurnet", "nafnet"], default="nafnet")
    ap.add_argument("--width", type=float, default=0.125, help="deblurnet's width")
    ap.add_argument("--nafnet-width", type=int, default=16)
    ap.add_argument("--enc-blocks", type=int, nargs="+", default=[1, 1, 2])
    ap.add_argument("--middle-blocks", type=int, default=2)
    ap.add_argument("--dec-blocks", type=int, nargs="+", default=[1, 1, 1])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--loss", default="auto")
    ap.add_argument("--optimizer", default="adam")
    ap.add_argument("--schedule", default="cosine")
    ap.add_argument("--beta2", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--val-every", type=int, default=250)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--precision", choices=["fp32", "amp", "both"], default="fp32",
                    help="amp: train.amp on (bf16 where the CPU has it); both: one run of each")
    ap.add_argument("--out", type=Path, default=None, help="keep the run here (log.csv, model)")
    args = ap.parse_args()
    if args.steps % args.val_every:
        ap.error("--steps must be a multiple of --val-every (the last point is at --steps)")
    torch.set_num_threads(args.threads)
    pairs, blurred = test_pairs(args.manifest)
    base = np.array([psnr(b, s) for b, s in pairs])
    params = ({"width": args.nafnet_width, "enc_blocks": args.enc_blocks,
               "middle_blocks": args.middle_blocks, "dec_blocks": args.dec_blocks}
              if args.arch == "nafnet" else {"width": args.width})
    spec = ModelSpec(args.arch, params)
    print(f"# {platform.machine()}, {torch.get_num_threads()} thread(s), torch "
          f"{torch.__version__}; {args.manifest}: {len(pairs)} test images ({blurred.sum()} "
          f"blurred), blurry {base.mean():.2f} dB; {args.arch} {params}; {vars(args)}")
    runs = {"fp32": [False], "amp": [True], "both": [False, True]}[args.precision]
    print("amp,steps,train_minutes,gain_db,gain_blurred_db,improved", flush=True)
    # one process per run, side by side (as the demo's two trainings share the 2 cores), so
    # that on a shared machine both see the same load
    with ProcessPoolExecutor(len(runs), mp_context=get_context("spawn")) as pool:
        futures = {amp: pool.submit(curve, args, spec, pairs, base, blurred, amp) for amp in runs}
        results = {amp: future.result() for amp, future in futures.items()}
    if len(results) == 2:
        (fp32_rate, fp32_gain), (amp_rate, amp_gain) = results[False], results[True]
        print(f"# steps/s: fp32 {fp32_rate:.3f}, amp {amp_rate:.3f}, ratio "
              f"{amp_rate / fp32_rate:.2f}x; final gain amp - fp32: "
              f"{amp_gain - fp32_gain:+.3f} dB")


def test_psnrs(model: torch.nn.Module, pairs, bf16: bool) -> np.ndarray:
    """PSNR of the model's 8-bit outputs on every test pair, inference in fp32 or bf16."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        return np.array([psnr(to_uint8(deblur_array(model, b, "cpu")), s) for b, s in pairs])


def curve(args, spec: ModelSpec, pairs, base: np.ndarray, blurred: np.ndarray,
          amp: bool) -> tuple[float, float]:
    """Train once (``train.amp`` = ``amp``), printing the gain curve; (steps/s of training,
    validation excluded; the final mean gain in dB)."""
    torch.set_num_threads(args.threads)
    s = TrainSettings(steps=args.steps, batch_size=args.batch_size, crop=args.crop, lr=args.lr,
                      loss=args.loss, optimizer=args.optimizer, schedule=args.schedule,
                      beta2=args.beta2, weight_decay=args.weight_decay, seed=args.seed,
                      checkpoint_every=args.steps, log_every=args.val_every, workers=0,
                      device="cpu", val_every=args.val_every, val_images=1, amp=amp)
    out = (args.out / f"amp-{amp}") if args.out else Path(tempfile.mkdtemp(prefix="demo_training-"))
    t0, evaluating, final = time.time(), [0.0], {}

    def report(model: torch.nn.Module, step: int) -> None:
        t = time.time()
        gain = test_psnrs(model, pairs, False) - base
        minutes = (t - t0 - evaluating[0]) / 60
        print(f"{amp},{step},{minutes:.2f},{gain.mean():+.3f},{gain[blurred].mean():+.3f},"
              f"{(gain > 0).mean():.3f}", flush=True)
        final.update(gain=gain.mean(), minutes=minutes)
        if amp and step == args.steps:
            moved = test_psnrs(model, pairs, True) - base - gain
            print(f"# bf16 inference moves the test PSNR by {moved.mean():+.4f} dB on average "
                  f"(largest {np.abs(moved).max():.4f} dB on one image)")
        evaluating[0] += time.time() - t

    train(split_shards(args.manifest, "train"), out, s, "demo_training", name="curve",
          val_shards=split_shards(args.manifest, "test"), model_spec=spec,
          on_validation=report)
    return args.steps / (final["minutes"] * 60), final["gain"]


if __name__ == "__main__":
    main()
