"""Why Sun et al. 2015 gains little on the shift-invariant (SI) test set: its model is a linear
motion kernel, and the SI kernels are curved trajectories. After a demo run (it reads the SI
test shard and the rule train_sun2015's checkpoint), this prints:

1. for the first ``--images`` SI images, the best PSNR any one of the 73 linear kernels reaches
   with a Wiener deconvolution, the kernel chosen against the sharp image (an oracle of Sun's
   model: no choice of its CNN can do better with one kernel);
2. the trained Sun model on the first SI sharp image blurred instead by linear kernels of its
   own family (plus Gaussian noise 0.01): its most frequent kernel and its PSNR gain.

    python benchmarks/sun_linear.py [--results results] [--images 8] [--config config.yaml]

Sun's inference settings are the config's ``baselines.sun2015`` (the demo's by default).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import h5py
import numpy as np
import torch
import yaml

from wilddeblur.evaluation.baselines.nonblind import deconvolve
from wilddeblur.evaluation.baselines.sun_motion import (
    SunRestorer,
    kernel_stack,
    linear_kernel,
    motion_classes,
)
from wilddeblur.evaluation.metrics import psnr
from wilddeblur.training.synthetic_blur import blur_valid

LINEAR_BLURS = ((21, 0.0), (11, 60.0), (15, 120.0), (5, 90.0))  # (length px, angle °)
SIDE = 27  # the kernels' support: 'valid' blur crops (SIDE - 1) / 2 px on each side


def best_linear_kernel(blurry: np.ndarray, sharp: np.ndarray) -> tuple[float, tuple[int, float]]:
    """The best PSNR over the 73 linear kernels (Wiener, noise 0.02), and that kernel."""
    classes = motion_classes()
    stack = kernel_stack(classes)
    scores = [psnr(np.clip(deconvolve(blurry, k, "wiener", noise_sigma=0.02), 0, 1), sharp, 1.0)
              for k in stack]
    best = int(np.argmax(scores))
    return float(scores[best]), classes[best]


def linear_blur(sharp: np.ndarray, length: int, angle: float, seed: int = 0) -> np.ndarray:
    """``sharp`` (H, W, 3 in [0, 1]) blurred by one linear kernel ('valid'), noise 0.01, 8-bit."""
    x = torch.from_numpy(np.ascontiguousarray(sharp.transpose(2, 0, 1)))[None]
    k = torch.from_numpy(linear_kernel(length, angle, SIDE))[None]
    y = blur_valid(x, k)[0].numpy().transpose(1, 2, 0)
    y = y + np.random.default_rng(seed).normal(0, 0.01, y.shape)
    return np.round(np.clip(y, 0, 1) * 255).astype(np.uint8)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results", type=Path, default=Path("results"))
    p.add_argument("--images", type=int, default=8)
    p.add_argument("--config", type=Path, default=Path("config.yaml"))
    args = p.parse_args()
    sun_params = yaml.safe_load(args.config.read_text())["baselines"]["sun2015"]
    with h5py.File(args.results / "si" / "test" / "shard-00000.h5", "r") as f:
        blurry, sharp = f["blurry"][: args.images] / 255.0, f["sharp"][: args.images] / 255.0
    print("1. SI images: blurry PSNR -> best single linear kernel (Wiener, chosen on the sharp)")
    for i, (b, s) in enumerate(zip(blurry, sharp, strict=True)):
        score, (length, angle) = best_linear_kernel(b, s)
        print(f"   image {i}: {psnr(b, s, 1.0):.2f} -> {score:.2f} dB ({length} px at {angle:g}°)")
    restore = SunRestorer(args.results / "baselines" / "sun2015" / "model.pt", **sun_params)
    crop = (SIDE - 1) // 2
    truth = sharp[0][crop:-crop, crop:-crop]
    print(f"2. Sun's model ({sun_params}) on SI image 0 blurred by one linear kernel:")
    for length, angle in LINEAR_BLURS:
        y = linear_blur(sharp[0], length, angle)
        out = np.clip(restore(y, "linear", length), 0, 1)
        labels = restore.fields[("linear", length)]
        top = restore.classes[int(np.bincount(labels.ravel()).argmax())]
        print(f"   {length} px at {angle:g}°: most frequent kernel {top[0]} px at {top[1]:g}°, "
              f"{psnr(y / 255.0, truth, 1.0):.2f} -> {psnr(out, truth, 1.0):.2f} dB")


if __name__ == "__main__":
    main()
