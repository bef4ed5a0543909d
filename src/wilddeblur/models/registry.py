"""The networks the workflow trains, one :class:`Arch` entry each, and checkpoints that say
which network they hold.

An entry is everything the project knows of a network: its class (an ``*_arch.py``), its
label (runs are ``{label}WILD`` and ``{label}SI``, the rows of the paper's Table 2), its
hyper-parameters with their config keys under ``model`` and their ``wilddeblur train`` flags,
the loss ``train.loss: auto`` means, and the section of ``train`` holding its own recipe.
Adding a network is one ``*_arch.py`` and one :func:`register` call (as BasicSR's
``ARCH_REGISTRY``); the config schema declares its keys and is the one source of defaults
(``tests/test_defaults.py`` holds every entry to it).

* ``deblurnet``: the paper's DeblurNet (§3, Table 1); hyper-parameter ``width``.
* ``nafnet``: NAFNet (Chen et al., ECCV 2022); ``width``, ``enc_blocks``, ``middle_blocks``,
  ``dec_blocks``.

Every checkpoint records ``arch`` and ``arch_params``, so whatever reads one builds the network
it holds. Checkpoints in the official NAFNet/BasicSR format load too, wherever a checkpoint is
taken (:mod:`wilddeblur.models.nafnet_checkpoint`): deblurring, evaluation, and as the weights a
training run starts from (:func:`init_weights`); a project NAFNet is written in that format by
:func:`export_official`. This module imports without PyTorch (the workflow's rule files read
the names); a network's class is imported when it is built.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wilddeblur.errors import CheckpointError, ConfigError

if TYPE_CHECKING:
    import torch
    from torch import nn

TRAINING_DATA = ("WILD", "SI")


@dataclass(frozen=True)
class Param:
    """A hyper-parameter: its key in the config's ``model`` section (dotted), its
    ``wilddeblur train`` flag, and its default (the schema's)."""

    key: str
    flag: str
    default: Any


@dataclass(frozen=True)
class Arch:
    """One network. ``cls``: the class, or ``"module:Class"`` (imported when first built);
    ``loss``: the loss ``train.loss: auto`` means (``training/losses.py``); ``multiscale``: it
    returns a tuple of scales, coarse to fine (Eq. (1) needs them); ``train_section``: the key
    of ``train`` whose keys replace the section's for this network, ``recipe`` its defaults."""

    name: str
    label: str
    cls: str | type
    params: Mapping[str, Param]
    loss: str
    multiscale: bool = False
    train_section: str | None = None
    recipe: Mapping[str, Any] = field(default_factory=dict)

    def network_class(self) -> type:
        if isinstance(self.cls, str):
            module, _, name = self.cls.partition(":")
            return getattr(importlib.import_module(module), name)
        return self.cls

    def config_params(self, model_section: Mapping) -> dict:
        """This network's hyper-parameters in the config's ``model`` section."""
        out = {}
        for name, p in self.params.items():
            node = model_section
            for part in p.key.split("."):
                node = node.get(part, {}) if isinstance(node, Mapping) else {}
            out[name] = p.default if node == {} else node
        return out


ARCHS: dict[str, Arch] = {}


def get(name: str) -> Arch:
    if name not in ARCHS:
        raise ConfigError(f"model.arch: unknown network {name!r} (known: {', '.join(ARCHS)})")
    return ARCHS[name]


def labels() -> dict[str, str]:
    """Architecture -> label: ``{"deblurnet": "DeblurNet", ...}``."""
    return {a.name: a.label for a in ARCHS.values()}


def register(arch: Arch) -> Arch:
    """Add a network to the registry (its name and label must be new)."""
    if arch.name in ARCHS or arch.label in labels().values():
        raise ValueError(f"{arch.name} / {arch.label}: a network of that name is registered")
    ARCHS[arch.name] = arch
    return arch


def unregister(name: str) -> None:
    ARCHS.pop(name, None)


register(Arch("deblurnet", "DeblurNet", "wilddeblur.models.deblurnet_arch:DeblurNet",
              {"width": Param("width", "--width", 1.0)}, loss="eq1", multiscale=True))
register(Arch("nafnet", "NAFNet", "wilddeblur.models.nafnet_arch:NAFNet",
              {"width": Param("nafnet.width", "--nafnet-width", 32),
               "enc_blocks": Param("nafnet.enc_blocks", "--enc-blocks", [1, 1, 1, 28]),
               "middle_blocks": Param("nafnet.middle_blocks", "--middle-blocks", 1),
               "dec_blocks": Param("nafnet.dec_blocks", "--dec-blocks", [1, 1, 1, 1])},
              loss="l1", train_section="nafnet",
              recipe={"lr": 0.001, "schedule": "cosine", "optimizer": "adam", "beta1": 0.9,
                      "beta2": 0.9, "weight_decay": 0.0, "loss": "auto"}))


def name_pattern() -> str:
    """A regular expression matching every run name (``DeblurNetWILD``, ``NAFNetSI``, ...)."""
    return (rf"(?:{'|'.join(re.escape(a.label) for a in ARCHS.values())})"
            rf"(?:{'|'.join(TRAINING_DATA)})")


def run_names(archs: list[str], data: tuple[str, ...] = TRAINING_DATA) -> list[str]:
    """``DeblurNetWILD``, ``DeblurNetSI``, ``NAFNetWILD``, ... for ``archs`` in order."""
    return [get(a).label + d for a in archs for d in data]


def arch_of(name: str) -> tuple[str, str]:
    """(architecture, training data) of a run name such as ``NAFNetSI``."""
    for a in ARCHS.values():
        for d in TRAINING_DATA:
            if name == a.label + d:
                return a.name, d
    raise ValueError(f"{name!r} is not a network name like DeblurNetWILD or NAFNetSI")


def arch_of_label(label: str) -> str:
    return next(a.name for a in ARCHS.values() if a.label == label)


def arch_params(model_section: Mapping, arch: str) -> dict:
    """The hyper-parameters of ``arch`` in the config's ``model`` section."""
    return get(arch).config_params(model_section)


@dataclass(frozen=True)
class ModelSpec:
    """An architecture by name and its constructor's hyper-parameters."""

    arch: str = "deblurnet"
    params: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        get(self.arch)

    @property
    def label(self) -> str:
        return get(self.arch).label

    def build(self) -> nn.Module:
        try:
            return get(self.arch).network_class()(**self.params)
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
    from wilddeblur.models.nafnet_arch import NAFNet
    from wilddeblur.models.nafnet_checkpoint import save_official

    model = load_model(checkpoint)
    if not isinstance(model, NAFNet):
        raise CheckpointError(f"{checkpoint}: holds {describe(model)}; only a NAFNet can be "
                              "written in the official NAFNet format")
    return save_official(model, Path(out))
