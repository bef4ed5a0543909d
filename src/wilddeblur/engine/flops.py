"""What the benchmarks need to turn a step time into throughput and MFU: the convolutions'
multiply-accumulates, and a clock that waits for the device."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def forward_macs(model: torch.nn.Module, x: torch.Tensor) -> int:
    """Multiply-accumulates of the convolutions in one forward pass (hooks count them)."""
    total = 0

    def hook(m, inp, out):
        nonlocal total  # conv: each output sums in·k·k products; deconv: each input scatters
        driver = out if isinstance(m, torch.nn.Conv2d) else inp[0]
        total += driver.numel() * m.weight[0].numel()

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d)]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return total


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously); nothing on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(run: Callable[[], object], device: torch.device, repeats: int) -> float:
    """Seconds per call of ``run`` (after one call to warm up), the device's queue included."""
    run()
    synchronize(device)
    t0 = time.perf_counter()
    for _ in range(repeats):
        run()
    synchronize(device)
    return (time.perf_counter() - t0) / repeats
