"""NAFNet checkpoints in the official NAFNet/BasicSR format, in and out.

BasicSR saves a network as ``{'params': state_dict}`` (or ``{'params_ema': ...}`` for the
moving-average copy), with the module names of the authors' ``NAFNet_arch.py``, which
:class:`~wilddeblur.models.nafnet_arch.NAFNet` keeps. Such a file says nothing of the
architecture: width and blocks per stage are read off its keys and shapes here, then the
weights are loaded strictly (every key, every shape).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch

from wilddeblur.errors import CheckpointError
from wilddeblur.models.nafnet_arch import NAFNet

OFFICIAL_KEYS = ("params", "params_ema")  # BasicSR's load_network tries 'params' first


def is_official(ckpt: Mapping) -> bool:
    return "model" not in ckpt and any(k in ckpt for k in OFFICIAL_KEYS)


def official_state(ckpt: Mapping) -> dict[str, torch.Tensor]:
    """The state dict of an official checkpoint, without DataParallel's ``module.`` prefix."""
    state = next(ckpt[k] for k in OFFICIAL_KEYS if k in ckpt)
    return {k.removeprefix("module."): v for k, v in state.items()}


def _count(state: Mapping, pattern: str) -> int:
    """How many distinct indices fill the ``(\\d+)`` group of ``pattern`` among the keys."""
    return len({m[1] for k in state if (m := re.match(pattern, k))})


def infer_hparams(state: Mapping[str, torch.Tensor], source: Path | str) -> dict:
    """NAFNet's width and blocks per stage from an official state dict's keys and shapes."""
    if "intro.weight" not in state:
        raise CheckpointError(f"{source}: no 'intro.weight'; not a NAFNet state dict")
    stages = _count(state, r"downs\.(\d+)\.weight$")
    ups = _count(state, r"ups\.(\d+)\.0\.weight$")
    if ups != stages:
        raise CheckpointError(f"{source}: {stages} down-sampling layers but {ups} up-sampling ones")
    return {"width": int(state["intro.weight"].shape[0]),
            "enc_blocks": [_count(state, rf"encoders\.{i}\.(\d+)\.") for i in range(stages)],
            "middle_blocks": _count(state, r"middle_blks\.(\d+)\."),
            "dec_blocks": [_count(state, rf"decoders\.{i}\.(\d+)\.") for i in range(stages)]}


def official_nafnet(ckpt: Mapping, source: Path | str) -> NAFNet:
    """A NAFNet with the weights of an official checkpoint (strict key and shape checks)."""
    state = official_state(ckpt)
    hparams = infer_hparams(state, source)
    model = NAFNet(**hparams)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        detail = " ".join(str(err).split())
        raise CheckpointError(f"{source}: the weights do not fit NAFNet {hparams} read off its "
                           f"keys: {detail}") from err
    return model


def save_official(model: NAFNet, path: Path) -> Path:
    """Write ``model`` as ``{'params': state_dict}``, as BasicSR saves it (atomically)."""
    from wilddeblur.engine.checkpoint import save_atomic

    if not isinstance(model, NAFNet):
        raise CheckpointError(f"{path}: only a NAFNet can be written in the official NAFNet "
                              f"format, not a {type(model).__name__}")
    save_atomic({"params": {k: v.detach().cpu() for k, v in model.state_dict().items()}},
                Path(path))
    return Path(path)
