"""Training settings (§3), importable without PyTorch (the CLI builds its flags from them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainSettings:
    """The paper's optimizer and schedule by default; iterations, crop and batch are silent
    in the paper and set per config."""

    steps: int = 300_000
    batch_size: int = 10
    crop: int = 128
    lr: float = 1e-3
    lr_decay: float = 0.75
    lr_step: int = 10_000
    beta1: float = 0.9
    beta2: float = 0.999
    checkpoint_every: int = 1000
    log_every: int = 10
    workers: int = 2
    device: str = "auto"
    amp: bool = True
    val_every: int = 0
    val_images: int = 4
    tensorboard: bool = False
    seed: int = 0
    width: float = 1.0  # config model.width: DeblurNet's channels × width (1.0 = Table 1)
