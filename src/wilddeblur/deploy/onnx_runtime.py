"""An exported ``.onnx`` network run by ONNX Runtime, wherever a checkpoint is taken (``deblur``,
``evaluate``, ``evaluate-external``).

:class:`OnnxNetwork` has the ``deblur`` method of the PyTorch networks (a batch tensor in, the
full-scale output out), so tiling (:mod:`wilddeblur.evaluation.inference`) and the 8-bit output
are the same code for both; the padding to the network's size multiple is inside the graph
(:mod:`wilddeblur.deploy.onnx_export`). ONNX Runtime runs on the CPU, or with its CUDA provider
where the installed build has one (``onnxruntime-gpu``).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from torch import Tensor, nn

from wilddeblur.errors import CheckpointError, ConfigError, MissingExtraError

INSTALL_HINT = 'pip install -e ".[deploy]" (or: pip install onnx onnxruntime)'
META = "wilddeblur."  # prefix of the metadata keys the exporter writes


def require(module: str, purpose: str) -> ModuleType:
    """``import module``, or a one-line :class:`MissingExtraError` saying what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtraError(f"{purpose} needs the {module} package, not installed here: "
                                f"{INSTALL_HINT}") from err


def is_onnx(path: Path | str) -> bool:
    return Path(path).suffix.lower() == ".onnx"


def providers(device: str, available: list[str]) -> list[str]:
    """ONNX Runtime's execution providers for a ``--device``: ``auto`` takes CUDA when this
    build has it, ``cpu`` the CPU; ``cuda`` must be there."""
    kind = device.split(":")[0]
    cuda = "CUDAExecutionProvider" in available
    if kind == "cuda" and not cuda:
        raise ConfigError(f"device {device!r}: this ONNX Runtime has no CUDAExecutionProvider "
                          f"(providers: {', '.join(available)}; pip install onnxruntime-gpu)")
    if kind not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"device {device!r}: ONNX Runtime runs on auto, cpu or cuda")
    return (["CUDAExecutionProvider"] if kind != "cpu" and cuda else []) + ["CPUExecutionProvider"]


class OnnxNetwork:
    """An ONNX file with one N×3×H×W image input and the image output, run by ONNX Runtime
    with ``threads`` threads (0: its default). ``label`` and ``hparams`` are those the exporter
    recorded (empty for other files)."""

    def __init__(self, path: Path, device: str = "auto", threads: int = 0) -> None:
        ort = require("onnxruntime", f"{path}: running an ONNX network")
        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"{path}: no such ONNX file")
        chosen = providers(device, ort.get_available_providers())
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 4  # failures come as exceptions, reported in one line
        try:
            self.session = ort.InferenceSession(str(path), options, providers=chosen)
        except Exception as err:  # ONNX Runtime's own error types, for any unreadable file
            detail = " ".join(str(err).split())[:300]
            raise CheckpointError(f"{path}: ONNX Runtime cannot load it: {detail}") from err
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        shape = inputs[0].shape if len(inputs) == 1 else None
        if shape is None or len(shape) != 4 or shape[1] != 3 or not outputs:
            found = ", ".join(f"{i.name} {i.shape}" for i in inputs)
            raise CheckpointError(f"{path}: takes {found or 'no input'}, not one N×3×H×W "
                                  "image batch; not a deblurring network")
        self.input, self.output = inputs[0].name, outputs[0].name
        meta = self.session.get_modelmeta().custom_metadata_map
        self.label = meta.get(META + "arch", "ONNX")
        self.hparams = json.loads(meta.get(META + "hparams", "{}"))
        self.path = path

    @property
    def providers(self) -> list[str]:
        return self.session.get_providers()

    def deblur(self, x: Tensor) -> Tensor:
        """The full-scale output for ``x`` (N, 3, H, W) in [0, 1], of any H and W."""
        feed = np.ascontiguousarray(x.detach().float().cpu().numpy())
        out = self.session.run([self.output], {self.input: feed})[0]
        return torch.from_numpy(out).to(x.device)


def load_network(path: Path, device: str = "auto") -> tuple[nn.Module | OnnxNetwork,
                                                             torch.device]:
    """The network of a checkpoint (``model.pt``, an official NAFNet ``.pth``, or an exported
    ``.onnx``) and the torch device its inputs go to (the CPU for ONNX Runtime, which moves
    them to its provider itself)."""
    if is_onnx(path):
        return OnnxNetwork(Path(path), device), torch.device("cpu")
    from wilddeblur.engine.device import pick_device
    from wilddeblur.models.registry import load_model

    dev = pick_device(device)
    return load_model(Path(path), dev), dev
