"""The networks the workflow trains, built by name, and checkpoints that say which they hold:

* ``deblurnet``: the paper's DeblurNet (§3, Table 1); hyper-parameter ``width``.
* ``nafnet``: NAFNet (Chen et al., ECCV 2022); ``width``, ``enc_blocks``, ``middle_blocks``,
  ``dec_blocks``.

Every checkpoint records ``arch`` and ``arch_params``, so whatever reads one builds the network
it holds. Checkpoints in the official NAFNet/BasicSR format load too, wherever a checkpoint is
taken (:mod:`wilddeblur.models.nafnet_checkpoint`): deblurring, evaluation, and as the weights a
training run starts from (:func:`init_weights`); a project NAFNet is written in that format by
:func:`export_official`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from wilddeblur.errors import CheckpointError, ConfigError
from wilddeblur.models.deblurnet_arch import DeblurNet
from wilddeblur.models.nafnet_arch import NAFNet
from wilddeblur.models.names import LABELS

ARCHS: dict[str, type[nn.Module]] = {"deblurnet": DeblurNet, "nafnet": NAFNet}
# The loss each network trains with when train.loss is 'auto' (training/losses.py).
DEFAULT_LOSS = {"deblurnet": "eq1", "nafnet": "l1"}


@dataclass(frozen=True)
class ModelSpec:
    """An architecture by name and its constructor's hyper-parameters."""

    arch: str = "deblurnet"
    params: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ConfigError(f"model.arch: unknown network {self.arch!r} (known: "
                             f"{', '.join(ARCHS)})")

    @property
    def label(self) -> str:
        return LABELS[self.arch]

    def build(self) -> nn.Module:
        try:
            return ARCHS[self.arch](**self.params)
        except TypeError as err:
            raise ConfigError(f"model: {self.arch} hyper-parameters {dict(self.params)}: "
                             f"{err}") from err


def checkpoint_spec(ckpt: Mapping) -> ModelSpec:
    """The network a checkpoint of this project holds (``arch``, ``arch_params``); checkpoints
    from before the registry hold a DeblurNet with its ``width``."""
    if "arch_params" in ckpt:
        return ModelSpec(ckpt["arch"], dict(ckpt["arch_params"]))
    width = ckpt.get("width", ckpt.get("settings", {}).get("width", 1.0))
    return ModelSpec("deblurnet", {"width": float(width)})


def load_model(path: Path, device: torch.device | str = "cpu") -> nn.Module:
    """The network of a checkpoint (``model.pt``, ``last.pt``, or an official NAFNet/BasicSR
    file), in eval mode on ``device``."""
    from wilddeblur.engine.checkpoint import load
    from wilddeblur.models.nafnet_checkpoint import is_official, official_nafnet

    ckpt = load(path, map_location="cpu")
    if is_official(ckpt):
        model = official_nafnet(ckpt, path)
    else:
        if "model" not in ckpt:
            raise CheckpointError(f"{path}: neither a wilddeblur checkpoint (no 'model' entry) "
                                  "nor an official NAFNet one (no 'params' or 'params_ema')")
        spec = checkpoint_spec(ckpt)
        model = spec.build()
        try:
            model.load_state_dict(ckpt["model"])
        except RuntimeError as err:
            raise CheckpointError(f"{path}: weights do not fit {spec.label} "
                                  f"{dict(spec.params)}: {err}") from err
    return model.to(device).eval()


def describe(model: nn.Module) -> str:
    """A network's label and hyper-parameters, e.g. ``NAFNet {'width': 32, ...}``."""
    return f"{type(model).__name__} {model.hparams}"


def init_weights(model: nn.Module, path: Path) -> None:
    """Copy the weights of the checkpoint at ``path`` (any format :func:`load_model` reads) into
    ``model``; a CheckpointError unless it holds the same network with the same
    hyper-parameters."""
    source = load_model(path)
    if type(source) is not type(model) or source.hparams != model.hparams:
        raise CheckpointError(f"{path}: holds {describe(source)}, but this run trains "
                              f"{describe(model)}; train.init_from needs the same network "
                              "(set model.arch and model.nafnet or model.width to match)")
    model.load_state_dict(source.state_dict())


def export_official(checkpoint: Path, out: Path) -> Path:
    """Write the NAFNet of a project checkpoint as an official NAFNet/BasicSR file
    (``{'params': state_dict}``); a CheckpointError for any other network."""
    from wilddeblur.models.nafnet_checkpoint import save_official

    model = load_model(checkpoint)
    if not isinstance(model, NAFNet):
        raise CheckpointError(f"{checkpoint}: holds {describe(model)}; only a NAFNet can be "
                              "written in the official NAFNet format")
    return save_official(model, Path(out))
