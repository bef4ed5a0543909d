"""The trained networks' names, importable without PyTorch (the workflow's rule files use them).

``model.arch`` lists architectures; each is trained on the WILD pairs and on shift-invariant
synthetic blur, as ``{label}WILD`` and ``{label}SI`` (the rows of the paper's Table 2).
"""

from __future__ import annotations

import re

from wilddeblur.errors import ConfigError

LABELS = {"deblurnet": "DeblurNet", "nafnet": "NAFNet"}
ARCH_OF_LABEL = {label: arch for arch, label in LABELS.items()}
TRAINING_DATA = ("WILD", "SI")
NAME_PATTERN = rf"(?:{'|'.join(LABELS.values())})(?:{'|'.join(TRAINING_DATA)})"


def run_names(archs: list[str], data: tuple[str, ...] = TRAINING_DATA) -> list[str]:
    """``DeblurNetWILD``, ``DeblurNetSI``, ``NAFNetWILD``, ... for ``archs`` in order."""
    unknown = sorted(set(archs) - set(LABELS))
    if unknown:
        raise ConfigError(f"model.arch: unknown network {unknown} (known: {', '.join(LABELS)})")
    return [LABELS[a] + d for a in archs for d in data]


def arch_of(name: str) -> tuple[str, str]:
    """(architecture, training data) of a run name such as ``NAFNetSI``."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise ValueError(f"{name!r} is not a network name like DeblurNetWILD or NAFNetSI")
    data = next(d for d in TRAINING_DATA if name.endswith(d))
    return ARCH_OF_LABEL[name.removesuffix(data)], data


def arch_params(model_section: dict, arch: str) -> dict:
    """The hyper-parameters of ``arch`` in the config's ``model`` section."""
    if arch == "nafnet":
        return dict(model_section["nafnet"])
    return {"width": model_section["width"]}
