"""Training settings (§3), importable without PyTorch (the CLI builds its flags from them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from wilddeblur.errors import ConfigError
from wilddeblur.models import registry


@dataclass
class TrainSettings:
    """The paper's optimizer and schedule by default; iterations, crop and batch are silent
    in the paper and set per config. ``loss`` 'auto' is the network's own (Eq. (1) for
    DeblurNet); ``schedule`` 'step' multiplies the rate by ``lr_decay`` every ``lr_step``
    steps (the paper), 'cosine' anneals it to 0 over ``steps``, 'constant' keeps it.
    ``init_from``: a checkpoint (the project's model.pt/last.pt, or an official NAFNet/BasicSR
    file) whose weights the network starts from, instead of random ones, unless resuming.
    ``accumulate``, ``ema``, ``grad_clip``: what one GPU needs to follow a multi-GPU recipe
    (the batch in k micro-batches; a moving average of the weights, used for evaluation;
    gradient norm clipping), each off by default (:mod:`wilddeblur.engine.loop`)."""

    steps: int = 300_000
    batch_size: int = 10
    crop: int = 128
    lr: float = 1e-3
    lr_decay: float = 0.75
    lr_step: int = 10_000
    schedule: str = "step"
    optimizer: str = "adam"
    beta1: float = 0.9
    beta2: float = 0.999
    weight_decay: float = 0.0
    loss: str = "auto"
    checkpoint_every: int = 1000
    log_every: int = 10
    workers: int = 2
    device: str = "auto"
    amp: bool = True
    val_every: int = 0
    val_images: int = 4
    tensorboard: bool = False
    init_from: str | None = None
    accumulate: int = 1
    ema: float = 0.0
    grad_clip: float = 0.0
    seed: int = 0


def settings_for_arch(train_section: Mapping, arch: str, **extra) -> TrainSettings:
    """TrainSettings from the config's ``train`` section, with the network's own recipe (its
    registry entry's ``train_section``, e.g. ``train.nafnet``, and that section's defaults)
    taking precedence for that architecture, and ``extra`` over both."""
    own = registry.get(arch).train_section
    sections = {a.train_section for a in registry.ARCHS.values()}
    values = {k: v for k, v in train_section.items() if k not in sections}
    if own:
        values.update(registry.get(arch).recipe)
        values.update(train_section.get(own, {}))
    values.update(extra)
    names = {f.name for f in fields(TrainSettings)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"train: no such key {unknown}")
    return TrainSettings(**values)
