"""A trained network as an ONNX file, for ONNX Runtime, OpenVINO, TensorRT and the like.

The graph computes the network's ``deblur``: the full-scale output for an N×3×H×W input in
[0, 1] of any height and width, with the padding to the network's size multiple (replicate to 4
for DeblurNet, zeros to 2^stages for NAFNet) and the crop back inside the graph; batch, height
and width are dynamic. DeblurNet's 1/4- and 1/2-scale outputs (``s1``, ``s2``, which only the
training loss, Eq. (1), uses) are not exported. Input ``blurry``, output ``sharp``, opset
:data:`OPSET`; the metadata records the architecture and its hyper-parameters.

The graph is traced by PyTorch's TorchScript-based exporter (``dynamo=False``), at a size that
needs padding so that the padding is traced as computed from the input's size; the file is then
checked by ``onnx.checker`` and run by ONNX Runtime at two other sizes against PyTorch, and only
written when they agree.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from wilddeblur import __version__
from wilddeblur.deploy.onnx_runtime import META, OnnxNetwork, is_onnx, require
from wilddeblur.engine.checkpoint import load
from wilddeblur.errors import CheckpointError, ConfigError
from wilddeblur.fileio import atomic_path
from wilddeblur.models.registry import ARCHS, labels, load_model

OPSET = 17  # ONNX's LayerNormalization (NAFNet) is in opset 17 and later
INPUT, OUTPUT = "blurry", "sharp"
TOLERANCE = 0.5 / 255  # largest ONNX Runtime - PyTorch difference accepted: half an 8-bit level


class FullScale(nn.Module):
    """What the exported graph computes: ``net.deblur``, the full-scale output of any size."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        return self.net.deblur(x)


def not_exportable(ckpt: Mapping) -> str | None:
    """What a checkpoint of this project's other networks holds, which export-onnx does not
    export (they are not image-to-image networks); None for anything else."""
    if "classes" in ckpt:
        return "the Sun et al. (2015) patch classifier (a Table 2 baseline), which scores patches"
    arch = str(ckpt.get("arch", ""))
    if arch.lower().startswith("flownet"):
        return f"a FlowNet ({arch}), which maps two frames to optical flow"
    return None


def trace_sizes(multiple: int) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """(H, W) to trace at, padded in both directions, and two other sizes to check at: one
    padded differently, one needing no padding."""
    return (2 * multiple + 1, 3 * multiple - 1), [(3 * multiple + 3, multiple + 1),
                                                  (2 * multiple, 3 * multiple)]


def trace(model: nn.Module, dest: Path, size: tuple[int, int]) -> None:
    """Trace ``model.deblur`` at ``size`` into an ONNX file, batch, height and width dynamic."""
    example = torch.rand(2, 3, *size, generator=torch.Generator().manual_seed(0))
    dynamic = {0: "batch", 2: "height", 3: "width"}
    # The exporter warns that it is the legacy one and that a shape test was traced as a
    # constant (DeblurNet.forward's multiple-of-4 check, true after the padding); the check
    # against PyTorch at other sizes is what guards the graph.
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(FullScale(model).eval(), (example,), str(dest), dynamo=False,
                          input_names=[INPUT], output_names=[OUTPUT], opset_version=OPSET,
                          dynamic_axes={INPUT: dynamic, OUTPUT: dynamic})


def largest_difference(model: nn.Module, exported: OnnxNetwork, size: tuple[int, int]) -> float:
    """Largest |ONNX Runtime - PyTorch| of the full-scale outputs for a random input (infinite
    where ONNX Runtime fails at that size)."""
    x = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model.deblur(x).numpy()
    try:
        got = exported.deblur(x).numpy()
    except Exception:  # ONNX Runtime's own error types: a graph that cannot take this size
        return float("inf")
    if got.shape != expected.shape:
        return float("inf")
    return float(np.abs(got - expected).max())


def export_onnx(checkpoint: Path, out: Path, force: bool = False) -> Path:
    """Write the network of ``checkpoint`` (``model.pt`` or an official NAFNet ``.pth``) as
    an ONNX file at ``out``; an existing ``out`` is replaced only with ``force``."""
    onnx = require("onnx", f"{out}: ONNX export")
    require("onnxruntime", f"{out}: checking the exported network")
    checkpoint, out = Path(checkpoint), Path(out)
    if not is_onnx(out):
        raise ConfigError(f"{out}: the ONNX file's name must end in .onnx")
    if out.exists() and not force:
        raise ConfigError(f"{out}: exists; pass --force to replace it")
    if what := not_exportable(load(checkpoint)):
        raise CheckpointError(f"{checkpoint}: holds {what}; export-onnx exports the deblurring "
                              f"networks ({', '.join(labels().values())})")
    model = load_model(checkpoint, "cpu")  # a network of the registry, or a one-line error
    arch = next(a.name for a in ARCHS.values() if type(model) is a.network_class())
    traced_at, checks = trace_sizes(model.size_multiple)
    with atomic_path(out) as tmp:
        trace(model, tmp, traced_at)
        proto = onnx.load(str(tmp))
        meta = {"arch": labels()[arch], "hparams": json.dumps(model.hparams),
                "output": "full scale", "source": checkpoint.name, "version": __version__}
        for key, value in meta.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = META + key, value
        proto.doc_string = (f"{labels()[arch]} {model.hparams} from {checkpoint.name}: "
                            f"{INPUT} (N, 3, H, W) RGB in [0, 1] -> {OUTPUT}, same size")
        onnx.checker.check_model(proto, full_check=True)
        onnx.save(proto, str(tmp))
        exported = OnnxNetwork(tmp, "cpu")
        for size in checks:
            diff = largest_difference(model, exported, size)
            if not diff <= TOLERANCE:
                what = (f"differs from PyTorch's by {diff:.3g}" if diff < float("inf")
                        else "cannot be computed by ONNX Runtime, or has another size,")
                raise CheckpointError(f"{checkpoint}: the ONNX graph's output {what} at "
                                      f"{size[1]}×{size[0]}; {out} not written")
    return out
