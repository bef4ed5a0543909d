"""Where a training runs: one device, or one process of several started by ``torchrun``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist

from wilddeblur.engine.device import pick_device


@dataclass(frozen=True)
class Placement:
    """The device of this process, its rank (and local rank) among ``world`` processes."""

    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    rank: int = 0
    local_rank: int = 0
    world: int = 1


def distributed() -> tuple[int, int, int]:
    """(rank, local rank, world size) from torchrun's environment; (0, 0, 1) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")), world


def place(device: str = "auto") -> Placement:
    """The device by name (:func:`pick_device`) and, under torchrun, the process group joined:
    NCCL on CUDA (one GPU per process, by local rank), Gloo on the CPU."""
    rank, local_rank, world = distributed()
    dev = pick_device(device)
    if world > 1:
        if dev.type == "cuda":
            dev = torch.device("cuda", local_rank)
            torch.cuda.set_device(dev)
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return Placement(dev, rank, local_rank, world)


def release(where: Placement) -> None:
    """Leave the process group (after every process has finished)."""
    if where.world > 1:
        dist.barrier()
        dist.destroy_process_group()
