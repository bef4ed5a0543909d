"""Training-step time of the demo's networks with contiguous and channels-last tensors, on this
machine's CPU (or GPU), measured in one run: why training uses channels-last everywhere.

    python benchmarks/memory_format.py [--threads 1] [--steps 15]

Prints, per network, milliseconds per step in each layout and the ratio.
"""

from __future__ import annotations

import argparse
import time

import torch

from wilddeblur.engine.device import pick_device
from wilddeblur.models.registry import ModelSpec
from wilddeblur.training.losses import loss_function

NETWORKS = {  # the demo's sizes, batches and crops (config.yaml)
    "DeblurNet x0.125": (ModelSpec("deblurnet", {"width": 0.125}), 4, 96),
    "NAFNet 16, 1-1-1-4": (ModelSpec("nafnet", {"width": 16, "enc_blocks": [1, 1, 1, 4],
                                                "middle_blocks": 1,
                                                "dec_blocks": [1, 1, 1, 1]}), 8, 64),
}


def step_ms(spec: ModelSpec, batch: int, crop: int, layout: torch.memory_format, steps: int,
            device: torch.device) -> float:
    torch.manual_seed(0)
    model = spec.build().to(device, memory_format=layout)
    loss_fn = loss_function("auto", spec.arch)
    opt = torch.optim.Adam(model.parameters())
    x = torch.rand(batch, 3, crop, crop, device=device).contiguous(memory_format=layout)
    y = torch.rand(batch, 3, crop, crop, device=device)
    for k in range(3 + steps):
        if k == 3:
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    print(f"# {device}, {torch.get_num_threads()} thread(s), torch {torch.__version__}")
    for name, (spec, batch, crop) in NETWORKS.items():
        plain = step_ms(spec, batch, crop, torch.contiguous_format, args.steps, device)
        last = step_ms(spec, batch, crop, torch.channels_last, args.steps, device)
        print(f"{name}: contiguous {plain:.0f} ms/step, channels-last {last:.0f} ms/step, "
              f"{plain / last:.2f}x")


if __name__ == "__main__":
    main()
