"""Choosing the torch device, the same way for training, evaluation, FlowNet and the report."""

from __future__ import annotations

import torch

from wilddeblur.errors import ConfigError


def pick_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA when available, else the CPU; an explicit CUDA device must exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r}: CUDA is not available here")
    return dev
