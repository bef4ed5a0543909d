"""DeblurNet speed: training images/s (fp32 vs bf16 AMP + channels_last), the data loader's
samples/s alone, model FLOP utilisation, and inference time for one 1280×720 frame.

    python benchmarks/train_speed.py [--device cuda] [--steps 20] [--batch 10] [--crop 128]

Every ratio printed is measured in this one run, on this machine.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from wilddeblur.dataset.shards import shard_path, write_shard
from wilddeblur.engine.flops import forward_macs, timed
from wilddeblur.engine.flops import synchronize as sync
from wilddeblur.engine.loop import Job, Recipe, optimizer_step
from wilddeblur.evaluation.inference import deblur_tiled
from wilddeblur.models.deblurnet_arch import DeblurNet
from wilddeblur.models.registry import ModelSpec, load_model
from wilddeblur.training.data import ShardBatches, batch_loader
from wilddeblur.training.loop import build, channels_last, train
from wilddeblur.training.losses import multiscale_loss
from wilddeblur.training.settings import TrainSettings


class InMemory:
    """Frames in memory as a shard's frame source."""

    def __init__(self, frames: np.ndarray) -> None:
        self.frames = frames

    def window(self, start: int, ne: int) -> np.ndarray:
        return self.frames[start : start + ne]


def synthetic_shard(root: Path, n: int = 64) -> Path:
    """A shard of n samples at the demo's 240×427 (random content: speed only)."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (n + 6, 240, 427, 3), dtype=np.uint8)
    rows = pd.DataFrame({"video": "v", "start": np.arange(n), "ne": 7, "center": np.arange(n) + 3,
                         "flow_mean": 0.0, "flow_p95": 0.0, "flow_p99": 0.0, "flow_max": 0.0,
                         "flow_region": 0.0, "match_err_local": 0.02,
                         "match_err": 0.0, "blur_size": 0.0, "index": np.arange(n)})
    path = shard_path(root, "train", 0)
    write_shard(path, rows, {"v": InMemory(frames)}, "bench")
    return path


def time_training(device, batch, crop, steps, amp: bool, compile_: bool) -> float:
    """Images per second of full training iterations (forward, loss, backward, Adam)."""
    s = TrainSettings(batch_size=batch, crop=crop)
    model, opt, sched = build(s, ModelSpec(), device)
    if not amp:
        model = model.to(memory_format=torch.contiguous_format)
    step_model = torch.compile(model) if compile_ else model
    g = torch.Generator().manual_seed(0)
    blurry = torch.rand(batch, 3, crop, crop, generator=g)
    sharp = torch.rand(batch, 3, crop, crop, generator=g)
    job = Job("speed", model, opt, sched, multiscale_loss, lambda _: (), Path("."), "",
              prepare=channels_last)
    recipe = Recipe(steps, amp=amp)
    for _ in range(3):
        optimizer_step(job, step_model, recipe, blurry, sharp, device, False)
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        optimizer_step(job, step_model, recipe, blurry, sharp, device, False)
    sync(device)
    return batch * steps / (time.perf_counter() - t0)


def time_loader(shard: Path, batch: int, crop: int, steps: int, workers: int) -> float:
    loader = batch_loader(ShardBatches([shard], batch, crop, 0, steps + 2), 0, workers)
    it = iter(loader)
    next(it)
    t0 = time.perf_counter()
    n = sum(1 for _ in it)
    return n * batch / (time.perf_counter() - t0)


def time_inference(device, tile: int | None, repeats: int = 3) -> float:
    model = DeblurNet().to(device).eval()
    x = torch.rand(1, 3, 720, 1280, device=device)
    run = (lambda: deblur_tiled(model, x, tile=tile)) if tile else (lambda: model.deblur(x))
    return timed(run, device, repeats)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--compile", action="store_true", help="also time torch.compile")
    p.add_argument("--peak-tflops", type=float, default=None,
                   help="the device's peak bf16 dense TFLOP/s, for the model FLOP utilisation")
    args = p.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(f"device: {device} ({name}), torch {torch.__version__}, "
          f"batch {args.batch}, crop {args.crop}")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    flops_per_image = 3 * 2 * forward_macs(DeblurNet(), torch.rand(1, 3, args.crop, args.crop))
    if device.type == "cuda":  # PyTorch lets cuDNN use TF32 for fp32 convolutions by default
        torch.backends.cudnn.allow_tf32 = False
        strict = time_training(device, args.batch, args.crop, args.steps, amp=False,
                               compile_=False)
        print(f"train fp32 (TF32 off):      {strict:8.1f} images/s")
        torch.backends.cudnn.allow_tf32 = True
    fp32 = time_training(device, args.batch, args.crop, args.steps, amp=False, compile_=False)
    print(f"train fp32 (default, TF32 convolutions on CUDA): {fp32:8.1f} images/s")
    if device.type == "cuda":
        amp = time_training(device, args.batch, args.crop, args.steps, amp=True, compile_=False)
        print(f"train bf16 + channels_last: {amp:8.1f} images/s  ({amp / fp32:.2f}x fp32, "
              f"{amp / strict:.2f}x fp32 without TF32)")
        if args.compile:
            try:
                comp = time_training(device, args.batch, args.crop, args.steps, amp=True,
                                     compile_=True)
            except Exception as err:  # report and go on: compile support varies by install
                print(f"train bf16 + compile: failed ({type(err).__name__}: {err})"[:300])
            else:
                print(f"train bf16 + compile:       {comp:8.1f} images/s  "
                      f"({comp / fp32:.2f}x fp32)")
                amp = max(amp, comp)
        if args.peak_tflops:
            mfu = amp * flops_per_image / 1e12 / args.peak_tflops
            print(f"model FLOP utilisation (bf16): {mfu:.1%} of {args.peak_tflops:g} TFLOP/s")
        best = amp
    else:
        best = fp32
    with tempfile.TemporaryDirectory() as tmp:
        shard = synthetic_shard(Path(tmp))
        loader = time_loader(shard, args.batch, args.crop, max(args.steps, 30), args.workers)
        # the real training entry point on this device: 4 steps, checkpoint, resume to 6
        settings = TrainSettings(steps=4, batch_size=2, crop=64, checkpoint_every=2,
                                 workers=1, device=args.device)
        train([shard], Path(tmp) / "run", settings, "bench")
        settings.steps = 6
        final = load_model(train([shard], Path(tmp) / "run", settings, "bench"), device)
        print(f"train() on {device}: ran, resumed at step 4, finished at step 6 "
              f"({next(final.parameters()).device})")
    print(f"loader alone ({args.workers} workers): {loader:8.1f} samples/s  "
          f"({loader / best:.1f}x the fastest training rate)")
    untiled = time_inference(device, None)
    tiled = time_inference(device, 512)
    print(f"inference 1280x720: {untiled * 1e3:8.1f} ms whole, {tiled * 1e3:8.1f} ms tiled (512)")


if __name__ == "__main__":
    main()
