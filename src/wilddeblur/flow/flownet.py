"""Loading and running pretrained FlowNetS / FlowNetC (Dosovitskiy et al. 2015).

Reads the public checkpoints of ClementPinard/FlowNetPytorch (``flownets``, ``flownets_bn``,
``flownetc``, ``flownetc_bn``) and NVIDIA/flownet2-pytorch (FlowNet2-S, FlowNet2-C), in legacy or
zip serialization, always with ``weights_only=True`` and a strict key/shape check. Inference
follows each release's own preprocessing:

- ClementPinard (``run_inference.py``): RGB / 255 − [0.411, 0.432, 0.45]; flow = div_flow ×
  output, bilinearly resized to H×W (no ×4: the 1/4-scale output is already in input pixels).
- NVIDIA (``FlowNet2S``/``FlowNet2C``): (RGB − per-channel mean over both frames) / 255; the
  frames are replicate-padded to multiples of 64 at the bottom/right; flow = ×4 bilinear
  upsampling of 20 × output, cropped back to H×W.

Flows follow the backend convention of ``backends.py``: (H, W, 2) float32 pixels, u then v,
frame1 → frame2.
"""

from __future__ import annotations

import math
import os
import pickle
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from wilddeblur.engine.device import pick_device
from wilddeblur.errors import CheckpointError
from wilddeblur.fileio import atomic_path
from wilddeblur.models.flownet_arch import (
    ARCHS,
    DEFAULT_DIV_FLOW,
    FlowNet,
    build_flownet,
    canonical_arch,
)

CP_MEAN_RGB = (0.411, 0.432, 0.45)  # run_inference.py order, which the released weights expect
NVIDIA_MULTIPLE = 64
STACKED_PREFIXES = ("flownetc.", "flownets_1.", "flownets_2.", "flownets_d.", "flownetfusion.")
FAMILIES = {"flownets": False, "flownetc": True}  # backend name -> uses correlation


class FlowNetCheckpointError(CheckpointError, ValueError):
    """A FlowNet weights file that cannot be read or does not fit its architecture."""


def _numpy_safe_globals() -> list:
    """Numpy scalars/dtypes that old checkpoints may hold in ``best_EPE`` (safe to unpickle)."""
    scalar = np._core.multiarray.scalar if hasattr(np, "_core") else np.core.multiarray.scalar
    allowed: list = [(scalar, "numpy.core.multiarray.scalar"),
                     (scalar, "numpy._core.multiarray.scalar"), np.dtype]
    for name in ("Float64DType", "Float32DType", "Int64DType", "Int32DType"):
        cls = getattr(getattr(np, "dtypes", None), name, None)
        if cls is not None:
            allowed.append(cls)
    return allowed


def _read(path: Path) -> object:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: FlowNet weights file not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        first = err
    except Exception as err:  # torch raises several types for truncated/corrupt files
        raise FlowNetCheckpointError(
            f"{path}: not a readable torch checkpoint (truncated or corrupt?): "
            f"{type(err).__name__}: {err}") from err
    try:  # a legacy file may pickle numpy scalars; allow only those, still weights_only
        with torch.serialization.safe_globals(_numpy_safe_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        lines = [ln.strip() for ln in str(first).splitlines() if ln.strip()]
        msg = next((ln for ln in lines if "WeightsUnpickler error" in ln),
                   lines[-1] if lines else type(first).__name__)
        raise FlowNetCheckpointError(
            f"{path}: not a readable torch checkpoint (truncated or corrupt?, or it pickles "
            f"objects that weights_only=True refuses): {msg}") from err


def _unpack(obj: object, path: Path) -> tuple[OrderedDict[str, torch.Tensor], Mapping]:
    """The state dict (``module.`` stripped) and the checkpoint's other entries."""
    if not isinstance(obj, Mapping):
        raise FlowNetCheckpointError(
            f"{path}: expected a dict checkpoint, got {type(obj).__name__}")
    if "state_dict" in obj:
        state, meta = obj["state_dict"], obj
    elif obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        state, meta = obj, {}
    else:
        raise FlowNetCheckpointError(
            f"{path}: no 'state_dict' entry and not a bare state dict (entries: "
            f"{_short(list(obj))})")
    if not isinstance(state, Mapping) or not state:
        raise FlowNetCheckpointError(f"{path}: 'state_dict' is empty or not a dict")
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise FlowNetCheckpointError(f"{path}: non-tensor state_dict entries: {_short(bad)}")
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, value in state.items():
        out[key[len("module."):] if key.startswith("module.") else key] = value
    return out, meta


def _short(items: Sequence[str], n: int = 8) -> str:
    items = list(items)
    text = ", ".join(items[:n])
    return text + (f", … ({len(items) - n} more)" if len(items) > n else "")


def infer_arch(state: Mapping[str, torch.Tensor]) -> str:
    """The ``ARCHS`` name a state dict's keys and conv1 shape describe (see the notes' table);
    ValueError for unsupported or unknown layouts."""
    keys = set(state)
    stacked = sorted({k.split(".")[0] for k in keys if k.startswith(STACKED_PREFIXES)})
    if stacked:
        raise ValueError(f"a stacked FlowNet2 / CS / CSS state dict (sub-networks {stacked}); "
                         f"only single networks are supported: {sorted(ARCHS)}")
    if "conv0.0.weight" in keys or "inter_conv2.0.weight" in keys:
        raise ValueError(
            f"a FlowNet2-SD state dict, which is not supported; one of {sorted(ARCHS)}")
    if "conv1.0.weight" not in keys:
        raise ValueError(f"not a FlowNet state dict: no 'conv1.0.weight' "
                         f"(keys: {_short(sorted(keys))})")
    corr = "conv_redir.0.weight" in keys
    bn = "conv1.1.running_mean" in keys or "conv1.1.weight" in keys
    nvidia = "predict_flow2.bias" in keys or "deconv2.0.bias" in keys
    if nvidia and bn:
        raise ValueError("a state dict with NVIDIA-style biases and BatchNorm: no known layout")
    cin = tuple(state["conv1.0.weight"].shape)[1:2]
    want = (3,) if corr else (6,)
    if cin != want:
        raise ValueError(f"conv1.0.weight has {cin[0] if cin else '?'} input channels; "
                         f"FlowNet{'C' if corr else 'S'} takes {want[0]}")
    if nvidia:
        return "FlowNet2C" if corr else "FlowNet2S"
    return ("flownetc" if corr else "flownets") + ("_bn" if bn else "")


def _div_flow(meta: Mapping, path: Path) -> float:
    value = meta.get("div_flow", DEFAULT_DIV_FLOW)
    try:
        value = float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError) as err:
        raise FlowNetCheckpointError(f"{path}: div_flow {value!r} is not a number") from err
    if not math.isfinite(value) or value <= 0:
        raise FlowNetCheckpointError(f"{path}: div_flow {value} must be a positive number")
    return value


def _load_strict(model: FlowNet, state: Mapping[str, torch.Tensor], path: Path,
                 hint: str) -> None:
    """Strict load; only a missing BatchNorm ``num_batches_tracked`` is filled in (0)."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    tolerated = [k for k in missing if k.endswith(".num_batches_tracked")]
    missing = [k for k in missing if not k.endswith(".num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
              for k, v in expected.items() if k in state and state[k].shape != v.shape]
    kinds = [k for k, v in expected.items() if k in state and state[k].shape == v.shape
             and state[k].is_floating_point() != v.is_floating_point()]
    nonfinite = [k for k, v in state.items() if k in expected and v.is_floating_point()
                 and not bool(torch.isfinite(v).all())]
    problems = []
    if missing:
        problems.append(f"missing keys ({len(missing)}): {_short(missing)}")
    if unexpected:
        problems.append(f"unexpected keys ({len(unexpected)}): {_short(unexpected)}")
    if shapes:
        problems.append(f"shape mismatch ({len(shapes)}): {_short(shapes, 4)}")
    if kinds:
        problems.append(f"wrong dtype kind ({len(kinds)}): {_short(kinds)}")
    if nonfinite:
        problems.append(f"non-finite values ({len(nonfinite)}): {_short(nonfinite)}")
    if problems:
        raise FlowNetCheckpointError(f"{path}: weights do not fit {model.arch}{hint}: "
                                     + "; ".join(problems))
    full = dict(state)
    for key in tolerated:
        full[key] = torch.zeros_like(expected[key])
    model.load_state_dict(full, strict=True)


def load_flownet(path: str | os.PathLike) -> FlowNet:
    """A FlowNet from a weights file, on the CPU, in eval mode.

    The architecture comes from the checkpoint's ``arch`` entry when present, else from its keys;
    ``div_flow`` from the checkpoint (default 20). Raises ``FlowNetCheckpointError`` naming the
    file and the problem for unreadable, foreign, partial or mis-shaped files.
    """
    path = Path(path)
    state, meta = _unpack(_read(path), path)
    try:
        inferred: str | None = infer_arch(state)
        why = ""
    except ValueError as err:
        inferred, why = None, str(err)
    if "arch" in meta:
        arch = canonical_arch(meta["arch"]) if isinstance(meta["arch"], str) else None
        if arch is None:
            raise FlowNetCheckpointError(
                f"{path}: unsupported arch {meta['arch']!r}; supported: {sorted(ARCHS)}")
    elif inferred is None:
        raise FlowNetCheckpointError(f"{path}: {why}")
    else:
        arch = inferred
    hint = f" (its keys look like {inferred})" if inferred and inferred != arch else ""
    model = build_flownet(arch, div_flow=_div_flow(meta, path))
    _load_strict(model, state, path, hint)
    return model.eval()


def save_flownet(model: FlowNet, path: str | os.PathLike, arch: str | None = None, *,
                 legacy: bool = False, epoch: int = 0, best_epe: float | None = None) -> None:
    """Write ``model`` as its release writes it, atomically.

    ClementPinard layouts: ``{'epoch', 'arch', 'state_dict', 'best_EPE', 'div_flow'}``; NVIDIA
    layouts: ``{'epoch', 'state_dict', 'best_EPE'}`` as ``convert.py`` (plus ``div_flow`` if not
    20). ``legacy=True`` uses the pre-1.6 (non-zip) serialization of the 2018 files.
    """
    name = canonical_arch(arch if arch is not None else model.arch)
    if name is None or name != model.arch:
        raise ValueError(f"arch {arch!r} does not describe this model ({model.arch})")
    state = OrderedDict((k, v.detach().cpu()) for k, v in model.state_dict().items())
    if model.layout == "clementpinard":
        ckpt: dict = {"epoch": epoch, "arch": name, "state_dict": state,
                      "best_EPE": -1.0 if best_epe is None else float(best_epe),
                      "div_flow": model.div_flow}
    else:
        ckpt = {"epoch": epoch, "state_dict": state,
                "best_EPE": 1e10 if best_epe is None else float(best_epe)}
        if model.div_flow != DEFAULT_DIV_FLOW:
            ckpt["div_flow"] = model.div_flow
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp, _use_new_zipfile_serialization=not legacy)


def _frames_tensor(frames: np.ndarray | Sequence[np.ndarray], device: torch.device,
                   what: str) -> torch.Tensor:
    arr = np.asarray(frames)
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"{what}: expected N×H×W×3 uint8 RGB frames, got {arr.dtype} "
                         f"{arr.shape}")
    t = torch.from_numpy(np.ascontiguousarray(arr)).to(device)
    return t.permute(0, 3, 1, 2).float()


def _flow(model: FlowNet, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """(N, 2, H, W) pixel flow for (N, 3, H, W) float 0..255 RGB pairs."""
    h, w = x1.shape[-2:]
    if model.layout == "clementpinard":
        mean = x1.new_tensor(CP_MEAN_RGB).view(1, 3, 1, 1)
        x = torch.cat((x1 / 255 - mean, x2 / 255 - mean), 1)
        out = model(x)
        return F.interpolate(out, size=(h, w), mode="bilinear", align_corners=False) \
            * model.div_flow
    mean = (x1.mean(dim=(2, 3), keepdim=True) + x2.mean(dim=(2, 3), keepdim=True)) / 2
    x = torch.cat(((x1 - mean) / 255, (x2 - mean) / 255), 1)
    ph = -h % NVIDIA_MULTIPLE
    pw = -w % NVIDIA_MULTIPLE
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    out = model(x)
    up = F.interpolate(out * model.div_flow, scale_factor=4, mode="bilinear",
                       align_corners=False)
    return up[..., :h, :w]


def estimate_flow_batch(model: FlowNet, frames1: np.ndarray | Sequence[np.ndarray],
                        frames2: np.ndarray | Sequence[np.ndarray],
                        device: str | torch.device | None = None,
                        batch_size: int | None = None) -> np.ndarray:
    """Flows (N, H, W, 2) float32 pixels from frames1[k] to frames2[k] (N×H×W×3 uint8 RGB).

    Runs where the model is, or on ``device`` (the model is moved there); in eval mode, without
    gradients; ``batch_size`` pairs at a time (default: all).
    """
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    if next(model.parameters()).device != dev:
        model.to(dev)
    a1, a2 = np.asarray(frames1), np.asarray(frames2)
    if a1.shape != a2.shape:
        raise ValueError(f"frames1 {a1.shape} and frames2 {a2.shape} differ in shape")
    n = len(a1)
    step = batch_size or max(n, 1)
    was_training = model.training
    model.eval()
    outs = []
    try:
        with torch.inference_mode():
            for s in range(0, n, step):
                x1 = _frames_tensor(a1[s:s + step], dev, "frames1")
                x2 = _frames_tensor(a2[s:s + step], dev, "frames2")
                outs.append(_flow(model, x1, x2).permute(0, 2, 3, 1).float().cpu().numpy())
    finally:
        model.train(was_training)
    if not outs:
        return np.zeros((0, *a1.shape[1:3], 2), np.float32)
    return np.ascontiguousarray(np.concatenate(outs), dtype=np.float32)


def estimate_flow(model: FlowNet, frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
    """Flow (H, W, 2) float32 pixels from frame1 to frame2 (H×W×3 uint8 RGB), u then v."""
    return estimate_flow_batch(model, np.asarray(frame1)[None], np.asarray(frame2)[None])[0]


def flownet_backend(weights: str | os.PathLike, device: str = "auto",
                    family: str | None = None) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A flow backend ``run(frame1, frame2) -> (H, W, 2)`` from a FlowNet weights file.

    The architecture comes from the file; ``family`` (``flownets``/``flownetc``), when given,
    must match it (S: FlowNetS / FlowNet2-S, C: FlowNetC / FlowNet2-C).
    """
    model = load_flownet(weights)
    if family is not None:
        if family not in FAMILIES:
            raise ValueError(f"unknown FlowNet family {family!r}; one of {sorted(FAMILIES)}")
        if model.correlation != FAMILIES[family]:
            raise ValueError(f"flow.backend {family!r} but {weights} holds {model.arch}")
    model.to(pick_device(device)).eval()

    def run(frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
        return estimate_flow(model, frame1, frame2)

    run.model = model  # type: ignore[attr-defined]
    return run
