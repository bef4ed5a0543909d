"""Choosing the torch device, the same way for training, evaluation, FlowNet and the report,
and the precision training computes in on it."""

from __future__ import annotations

import torch

from wilddeblur.errors import ConfigError

# cpuinfo's names (torch.cpu.get_capabilities) of instructions that compute bf16 in hardware:
# AVX512-BF16 and AMX on x86, BF16 and SVE-BF16 on Arm.
NATIVE_BF16 = ("avx512_bf16", "amx_bf16", "bf16", "sve_bf16")


def pick_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA when available, else the CPU; an explicit CUDA device must exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r}: CUDA is not available here")
    return dev


def onednn_bf16() -> bool:
    """Whether oneDNN, which runs the convolutions on the CPU, is built in and runs bf16 here."""
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def cpu_bf16_instructions() -> list[str]:
    """The native bf16 instructions this CPU has, as PyTorch's cpuinfo detects them, when
    oneDNN runs bf16 here; empty otherwise."""
    if not onednn_bf16():
        return []
    caps = torch.cpu.get_capabilities()
    return [name for name in NATIVE_BF16 if caps.get(name) is True]


def autocast_bf16(device: torch.device, amp: bool) -> tuple[bool, str]:
    """Whether training on ``device`` runs its forward pass in bf16 autocast, and why (one line
    for the log). Weights, optimizer state and the loss stay fp32 either way."""
    if not amp:
        return False, "fp32: train.amp is off"
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return True, "bf16 autocast: this GPU computes bf16"
        return False, "fp32: this GPU has no bf16"
    if device.type == "cpu":
        native = cpu_bf16_instructions()
        if native:
            return True, f"bf16 autocast: this CPU computes bf16 natively ({', '.join(native)})"
        return False, "fp32: this CPU has no native bf16 (AVX512-BF16, AMX or Arm BF16)"
    return False, f"fp32: no bf16 autocast on {device.type}"
