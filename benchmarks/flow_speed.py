"""Flow speed at the dataset's scale: pairs per second at 427×240 for DIS (presets), Farnebäck,
FlowNetS and FlowNetC (random weights: speed does not depend on them), on the CPU and, when
there is one, on a GPU (batched). All figures come from this one run.

    python benchmarks/flow_speed.py [--pairs 20] [--batch 16]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from wilddeblur.flow import make_backend
from wilddeblur.flow.flownet import estimate_flow_batch
from wilddeblur.models.flownet_arch import build_flownet


def frames(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (n, 240, 427, 3), dtype=np.uint8)
    return a, np.roll(a, 1, axis=2)


def rate(fn, n: int) -> float:
    fn()  # warm-up
    t0 = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return n / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--pairs", type=int, default=20)
    p.add_argument("--batch", type=int, default=16, help="GPU batch of pairs")
    args = p.parse_args()
    a, b = frames(args.pairs)
    print(f"427x240 pairs, {os.cpu_count()} CPUs, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads)")
    results = {}
    for name, options in (("dis ultrafast", {"preset": "ultrafast"}),
                          ("dis fast", {"preset": "fast"}), ("dis medium", {"preset": "medium"}),
                          ("farneback", {})):
        backend = make_backend(name.split()[0], **options)
        results[name] = rate(
            lambda backend=backend: [backend(x, y) for x, y in zip(a, b, strict=True)],
            args.pairs)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for arch in ("flownets", "flownetc"):
        for device in devices:
            model = build_flownet(arch).to(device).eval()
            n = args.pairs if device == "cuda" else max(2, args.pairs // 10)
            batch = args.batch if device == "cuda" else 1
            results[f"{arch} ({device})"] = rate(
                lambda model=model, n=n, batch=batch, device=device: estimate_flow_batch(
                    model, a[:n], b[:n], device=device, batch_size=batch), n)
    base = results["dis fast"]
    for name, r in results.items():
        print(f"{name:24s} {r:9.1f} pairs/s  ({r / base:6.2f}x DIS fast)")


if __name__ == "__main__":
    main()
