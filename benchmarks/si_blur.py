"""Time the SI blur: FFT (``blur_valid``) against direct grouped conv2d, 41×41 kernels.

Usage: ``python benchmarks/si_blur.py [--threads 1] [--repeats 15]``. Prints the best and
median of ``repeats`` runs per case (the best is the less noisy figure on a shared machine).
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from wilddeblur.dataset.kernels import KERNEL_SIZE
from wilddeblur.training.synthetic_blur import MARGIN, blur_valid, blur_valid_direct


def timings(fn, x, k, repeats: int) -> tuple[float, float]:
    fn(x, k)  # warm-up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(x, k)
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[0] * 1e3, ts[len(ts) // 2] * 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=1, help="torch threads (DataLoader workers: 1)")
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{args.threads} thread(s), device {args.device}")
    for batch, crop in ((1, 96), (10, 96), (10, 128)):
        size = crop + MARGIN
        x = torch.rand(batch, 3, size, size, device=args.device)
        k = torch.rand(batch, KERNEL_SIZE, KERNEL_SIZE, device=args.device)
        k /= k.sum((1, 2), keepdim=True)
        diff = (blur_valid(x, k) - blur_valid_direct(x, k)).abs().max().item()
        fft = timings(blur_valid, x, k, args.repeats)
        direct = timings(blur_valid_direct, x, k, args.repeats)
        print(f"batch {batch:2d}, {size}x{size}: fft best {fft[0]:6.2f} ms (median {fft[1]:6.2f})"
              f" | direct best {direct[0]:6.2f} ms (median {direct[1]:6.2f})"
              f" | max |diff| {diff:.1e}")


if __name__ == "__main__":
    main()
