"""One check of a GPU machine (about 8 minutes on one GPU), printing one table:

* training images/s and model FLOP utilisation (MFU) of DeblurNet (width 1, Table 1; batch 10
  of 128² crops) and NAFNet (width 32, the published GoPro blocks 1,1,1,28 / 1 / 1,1,1,1; batch
  4 of 256² crops, its published per-GPU batch) in fp32 (TF32 off), TF32, and bf16 autocast +
  channels-last;
* ``torchrun`` over every GPU present: ``wilddeblur train`` for 2 steps, checkpointed, then
  resumed to 4;
* FlowNetS and FlowNetC pairs/s, batched, at the pipeline's 427×240;
* inference time of one 1280×720 frame for both deblurring networks (fp32 and bf16);
* the project's ``train()`` for 4 steps, checkpointed, resumed to 6.

Random weights and frames rendered from the photos bundled with scikit-image: nothing to
download. ``--smoke``: tiny sizes on the CPU, in seconds (tests/test_gpu_check.py).

    python benchmarks/gpu_check.py [--peak-tflops BF16 TF32 FP32] [--steps 20] [--smoke]

MFU counts the convolutions' FLOPs (3 × 2 × the forward multiply-accumulates a training step
takes) against the card's dense peak for the precision used (a table of known cards, or
``--peak-tflops``). The exit status is 1 when any check failed (its row says why).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from wilddeblur.dataset.shards import manifest, shard_path, write_shard
from wilddeblur.engine.flops import forward_macs, timed
from wilddeblur.engine.loop import Job, Recipe, optimizer_step
from wilddeblur.evaluation.inference import deblur_array
from wilddeblur.flow.flownet import estimate_flow_batch
from wilddeblur.models.flownet_arch import build_flownet
from wilddeblur.models.registry import ModelSpec
from wilddeblur.training.loop import build, channels_last, train
from wilddeblur.training.losses import loss_function
from wilddeblur.training.settings import TrainSettings
from wilddeblur.video.demo_scene import mosaic

# Dense peak TFLOP/s (bf16, TF32, fp32) by a part of the card's name, NVIDIA's data sheets.
PEAKS = {"H100 PCIe": (756.0, 378.0, 51.2), "H100": (989.4, 494.7, 66.9),
         "H200": (989.4, 494.7, 66.9), "A100": (312.0, 156.0, 19.5)}
MODES = ("fp32", "tf32", "bf16")
# sizes: the check's own, and --smoke's (seconds on a CPU); steps None = --steps
FULL = {"deblurnet_width": 1.0, "batch": 10, "crop": 128, "nafnet_width": 32, "nafnet_batch": 4,
        "nafnet_crop": 256, "steps": None, "pairs": 16, "flow_size": (240, 427), "repeats": 5,
        "frame": (720, 1280), "shard_size": (240, 427)}
SMOKE = {"deblurnet_width": 0.125, "batch": 2, "crop": 32, "nafnet_width": 8, "nafnet_batch": 2,
         "nafnet_crop": 32, "steps": 2, "pairs": 2, "flow_size": (64, 64), "repeats": 1,
         "frame": (64, 64), "shard_size": (96, 128)}
NAFNET_32 = {"width": 32, "enc_blocks": [1, 1, 1, 28], "middle_blocks": 1,
             "dec_blocks": [1, 1, 1, 1]}


class Frames:
    """A pan across the bundled photos, ``speed`` px a frame: a shard's frame source."""

    def __init__(self, n: int, height: int, width: int, speed: int = 2) -> None:
        canvas = mosaic(("astronaut", "coffee", "chelsea", "rocket"), height)
        self.frames = np.stack([canvas[:, k * speed : k * speed + width] for k in range(n)])

    def window(self, start: int, ne: int) -> np.ndarray:
        return self.frames[start : start + ne]


def rendered_shard(root: Path, n: int, height: int, width: int) -> Path:
    """A train shard of n samples (7 frames averaged) and its manifest.csv beside it."""
    rows = pd.DataFrame({"video": "pan", "start": np.arange(n), "ne": 7,
                         "center": np.arange(n) + 3, "flow_mean": 2.0, "flow_p95": 2.0,
                         "flow_p99": 2.0, "flow_max": 2.0, "flow_region": 2.0,
                         "match_err_local": 0.02, "match_err": 0.0, "blur_size": 12.0,
                         "index": np.arange(n)})
    path = shard_path(root, "train", 0)
    write_shard(path, rows, {"pan": Frames(n + 6, height, width)}, "gpu_check")
    manifest([path], root).to_csv(root / "manifest.csv", index=False)
    return path


def set_tf32(on: bool) -> None:
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def training_rows(spec: ModelSpec, batch: int, crop: int, steps: int, device: torch.device,
                  peaks: tuple[float, ...] | None) -> list[tuple[str, str, str]]:
    """Images/s and MFU of full training steps (forward, loss, backward, Adam) in each mode."""
    name = f"train {spec.label} width {spec.params['width']}, batch {batch} × {crop}²"
    flops = 3 * 2 * forward_macs(spec.build(), torch.rand(1, 3, crop, crop))
    frames = Frames(2 * batch, crop, crop).frames
    blurry = torch.from_numpy(frames[:batch]).permute(0, 3, 1, 2).float().div(255)
    sharp = torch.from_numpy(frames[batch:]).permute(0, 3, 1, 2).float().div(255)
    rows = []
    for mode, peak in zip(MODES, peaks or (None,) * 3, strict=True):
        set_tf32(mode == "tf32")
        s = TrainSettings(batch_size=batch, crop=crop, device=str(device))
        model, opt, sched = build(s, spec, device)
        if mode != "bf16":
            model = model.to(memory_format=torch.contiguous_format)
        job = Job(spec.label, model, opt, sched, loss_function("auto", spec.arch),
                  lambda _: (), Path("."), "", prepare=channels_last)
        step = partial(optimizer_step, job, model, Recipe(steps, amp=mode == "bf16"), blurry,
                       sharp, device, False)
        seconds = timed(step, device, steps)
        rate = batch / seconds
        mfu = f", MFU {rate * flops / 1e12 / peak:.1%}" if peak else ""
        rows.append((name, mode + (" + channels-last" if mode == "bf16" else ""),
                     f"{rate:.3g} images/s{mfu}"))
    set_tf32(False)
    return rows


def flownet_rows(device: torch.device, pairs: int, height: int, width: int,
                 repeats: int) -> list[tuple[str, str, str]]:
    frames = Frames(pairs + 1, height, width).frames
    rows = []
    for arch in ("FlowNetS", "FlowNetC"):
        model = build_flownet(arch).to(device)
        for mode in ("fp32", "bf16"):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=mode == "bf16"):
                seconds = timed(lambda: estimate_flow_batch(model, frames[:-1],  # noqa: B023
                                                            frames[1:]), device, repeats)
            rows.append((f"{arch} flow, {pairs} pairs at {width}×{height}", mode,
                         f"{pairs / seconds:.3g} pairs/s"))
    return rows


def inference_rows(device: torch.device, height: int, width: int,
                   repeats: int) -> list[tuple[str, str, str]]:
    image = Frames(1, height, width).frames[0]
    rows = []
    for spec in (ModelSpec("deblurnet", {"width": 1.0}), ModelSpec("nafnet", NAFNET_32)):
        model = spec.build().to(device).eval()
        for mode in ("fp32", "bf16"):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=mode == "bf16"):
                seconds = timed(lambda: deblur_array(model, image, device),  # noqa: B023
                                device, repeats)
            rows.append((f"inference {spec.label} width {spec.params['width']}, one "
                         f"{width}×{height} frame", mode,
                         f"{seconds * 1e3:.1f} ms"))
    return rows


def torchrun_rows(root: Path, gpus: int, crop: int, width: float) -> list[tuple[str, str, str]]:
    """``wilddeblur train`` under torchrun: 2 steps (checkpoint each), then resumed to 4."""
    nproc = max(gpus, 1)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
           str(nproc), "-m", "wilddeblur", "train", "--manifest", str(root / "manifest.csv"),
           "--out-dir", str(root / "ddp"), "--batch-size", str(2 * nproc), "--crop", str(crop),
           "--width", str(width), "--checkpoint-every", "1", "--log-every", "1",
           "--workers", "0", "--val-split", "", "--settings-hash", "gpu_check"]
    rows = []
    for steps in (2, 4):
        t0 = time.perf_counter()
        res = subprocess.run([*cmd, "--steps", str(steps)], capture_output=True, text=True,
                             timeout=600)
        if res.returncode:
            raise RuntimeError(f"torchrun exit {res.returncode}: "
                               f"{res.stderr.strip().splitlines()[-1:]}")
        done = torch.load(root / "ddp" / "model.pt", weights_only=True)["step"]
        resumed = "resuming from" in res.stdout + res.stderr
        if done != steps or resumed != (steps == 4):
            raise RuntimeError(f"model.pt at step {done}, resumed: {resumed}")
        rows.append((f"torchrun, {nproc} process(es), DeblurNet width {width}",
                     "2 steps" if steps == 2 else "resumed at 2, to 4",
                     f"ok, {time.perf_counter() - t0:.1f} s"))
    return rows


def train_rows(shard: Path, out: Path, crop: int) -> list[tuple[str, str, str]]:
    """The project's train() on this device: 4 steps, checkpointed at 2 and 4, resumed to 6."""
    s = TrainSettings(steps=4, batch_size=2, crop=crop, checkpoint_every=2, log_every=1,
                      workers=0)
    spec = ModelSpec("nafnet", {"width": 8, "enc_blocks": [1, 1], "middle_blocks": 1,
                                "dec_blocks": [1, 1]})
    t0 = time.perf_counter()
    train([shard], out, s, "gpu_check", name="gpu_check", model_spec=spec)
    s.steps = 6
    final = torch.load(train([shard], out, s, "gpu_check", name="gpu_check", model_spec=spec),
                       weights_only=True)
    steps = pd.read_csv(out / "log.csv")["step"].tolist()
    if final["step"] != 6 or steps != list(range(1, 7)):
        raise RuntimeError(f"model.pt at step {final['step']}, log steps {steps}")
    return [("train(), NAFNet width 8", "4 steps, resumed to 6",
             f"ok, {time.perf_counter() - t0:.1f} s")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU, in seconds")
    ap.add_argument("--steps", type=int, default=20, help="timed training steps per row")
    ap.add_argument("--peak-tflops", type=float, nargs=3, default=None,
                    metavar=("BF16", "TF32", "FP32"), help="dense peaks (default: known cards)")
    args = ap.parse_args()
    device = torch.device("cpu" if args.smoke or not torch.cuda.is_available() else "cuda")
    gpus = torch.cuda.device_count() if device.type == "cuda" else 0
    card = torch.cuda.get_device_name(device) if gpus else platform.processor() or "CPU"
    peaks = args.peak_tflops and tuple(args.peak_tflops)
    peaks = peaks or next((p for key, p in PEAKS.items() if gpus and key in card), None)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    z = SMOKE if args.smoke else FULL
    if args.smoke:  # one thread: the smoke test runs beside others on a small machine
        torch.set_num_threads(1)
        os.environ["OMP_NUM_THREADS"] = "1"  # torchrun's processes too
    print(f"# {card} × {max(gpus, 1)}, torch {torch.__version__}, CUDA {torch.version.cuda}; "
          f"peaks bf16/TF32/fp32 {peaks or 'unknown'} TFLOP/s; {os.cpu_count()} CPUs")
    deblurnet = ModelSpec("deblurnet", {"width": z["deblurnet_width"]})
    nafnet = ModelSpec("nafnet", {**NAFNET_32, "width": z["nafnet_width"]})
    steps = z["steps"] or args.steps
    checks: dict[str, Callable[[Path], list[tuple[str, str, str]]]] = {
        "train DeblurNet": lambda root: training_rows(deblurnet, z["batch"], z["crop"], steps,
                                                      device, peaks),
        "train NAFNet": lambda root: training_rows(nafnet, z["nafnet_batch"], z["nafnet_crop"],
                                                   steps, device, peaks),
        "torchrun": lambda root: torchrun_rows(root, gpus, z["crop"], z["deblurnet_width"]),
        "FlowNet": lambda root: flownet_rows(device, z["pairs"], *z["flow_size"], z["repeats"]),
        "inference": lambda root: inference_rows(device, *z["frame"], z["repeats"]),
        "train()": lambda root: train_rows(root / "train" / "shard-00000.h5", root / "run",
                                           z["crop"]),
    }
    rows, failed = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rendered_shard(root, 8, *z["shard_size"])
        for name, check in checks.items():
            try:
                rows += check(root)
            except Exception as err:  # report and go on: one table whatever fails
                failed += 1
                rows.append((name, "FAILED",
                             f"{type(err).__name__}: {err}"[:200]))
    print("| check | setting | result |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
