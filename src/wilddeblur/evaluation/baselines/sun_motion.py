"""Non-uniform motion deblurring after Sun, Cao, Xu, Ponce, CVPR 2015 (the paper's Table 2 row
"Sun et al. 2015"): a patch CNN scores linear motion kernels, an MRF turns the scores into a
dense motion field, and the image is deconvolved with the space-varying kernels.

**Discretisation** (Sun et al.): linear motion of length ``l ∈ {1, 3, 5, …, 25}`` px and
orientation ``θ ∈ {0°, 30°, …, 150°}``; length 1 is "no motion" (one class), so 1 + 12 × 6 =
73 classes (:func:`motion_classes`). A kernel is the segment of that length and angle through
the centre, splatted bilinearly on a grid of side ``max length + 2`` (:func:`linear_kernel`).

**Patch CNN**: :class:`wilddeblur.models.sun2015_arch.SunPatchNet`, trained offline on
sharp patches blurred with each class (:mod:`wilddeblur.evaluation.baselines.sun_cnn`). At test
time it runs on 30×30 grey patches every ``stride`` px (Sun: densely, and also on the image
rotated in 6° steps — their *rotation extension*, which refines the 6 orientations to 30, 361
kernel candidates; **not done here**: the field keeps the 73 classes of the discretisation).

**MRF**: labels ``c_p`` on the patch grid minimising
``Σ_p −log P_p(c_p) + λ Σ_{p~q} D(c_p, c_q)`` over 4-neighbours, with ``D`` the squared distance
of the motion vectors ``l·(cos θ, sin θ)`` (the smaller of ``‖m_a − m_b‖²`` and
``‖m_a + m_b‖²``: a segment has no direction), ``λ = smoothness``. *Simplification*: solved
approximately by ``mrf_iterations`` sweeps of checkerboard mean-field updates from the CNN's
probabilities, then the most probable label per patch (Sun: an MRF solver over the 361
candidates of the rotation extension).

**Non-blind deconvolution** (Sun deconvolve with the dense non-uniform field). *Simplification*:
the ``max_kernels`` most frequent kernels of the field (the others mapped to the nearest kept
one by ``D``) each deconvolve the whole image
(:func:`wilddeblur.evaluation.baselines.nonblind.deconvolve`, ``deconvolution`` =
hyper-Laplacian, λ = ``final_lam``), and the results are blended per pixel with the kernel's
share of the field, smoothed by a Gaussian of ``stride`` px; "no motion" keeps the input.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from wilddeblur.errors import ConfigError
from wilddeblur.evaluation.baselines.kernel_ops import merge_params
from wilddeblur.evaluation.baselines.l0 import to_grey
from wilddeblur.evaluation.baselines.nonblind import deconvolve
from wilddeblur.models.sun2015_arch import PATCH, SunPatchNet


def motion_classes(max_length: int = 25, angles: int = 6) -> list[tuple[int, float]]:
    """``(length px, angle °)`` of every class: (1, 0) first, then lengths 3, 5, … ×
    ``angles`` orientations in [0°, 180°) (Sun: 25 px and 6 angles, 73 classes)."""
    if max_length < 3 or max_length % 2 == 0 or angles < 1:
        raise ValueError(f"max_length must be odd >= 3 and angles >= 1, got {max_length}, "
                         f"{angles}")
    return [(1, 0.0)] + [(length, 180.0 * a / angles) for length in range(3, max_length + 1, 2)
                         for a in range(angles)]


def linear_kernel(length: float, angle_deg: float, side: int) -> np.ndarray:
    """A centred segment of ``length`` px at ``angle_deg`` (counter-clockwise from +x, y up),
    splatted bilinearly on ``side``×``side`` (odd), summing to 1; length ≤ 1 is a delta."""
    k = np.zeros((side, side))
    c = side // 2
    if length <= 1:
        k[c, c] = 1.0
        return k
    t = np.linspace(-(length - 1) / 2, (length - 1) / 2, int(8 * length))
    ys = c - t * math.sin(math.radians(angle_deg))
    xs = c + t * math.cos(math.radians(angle_deg))
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    fy, fx = ys - y0, xs - x0
    for dy, dx, w in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx),
                      (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        np.add.at(k, (y0 + dy, x0 + dx), w)
    return k / k.sum()


def kernel_stack(classes: list[tuple[int, float]]) -> np.ndarray:
    """(C, S, S) kernels of ``classes``, ``S`` = longest length + 2."""
    side = max(length for length, _ in classes) + 2
    side += side % 2 == 0
    return np.stack([linear_kernel(length, angle, side) for length, angle in classes])


def motion_distance(classes: list[tuple[int, float]]) -> np.ndarray:
    """(C, C) squared distance of the classes' motion vectors, sign-free (see the doc)."""
    m = np.array([[length * math.cos(math.radians(a)), length * math.sin(math.radians(a))]
                  if length > 1 else [0.0, 0.0] for length, a in classes])
    minus = ((m[:, None] - m[None]) ** 2).sum(-1)
    plus = ((m[:, None] + m[None]) ** 2).sum(-1)
    return np.minimum(minus, plus)


def mrf_labels(probs: np.ndarray, distance: np.ndarray, smoothness: float,
               iterations: int) -> np.ndarray:
    """(gh, gw) labels of the MRF on a (gh, gw, C) grid of probabilities (see the doc), by
    mean-field updates ``q_p ∝ P_p · exp(−λ Σ_{q~p} E_{q_q}[D(·, c_q)])``, half the grid at a
    time (checkerboard), then the most probable label of each patch."""
    unary = -np.log(np.clip(probs, 1e-6, None))
    q = np.clip(probs, 1e-6, None)
    q = q / q.sum(-1, keepdims=True)
    gh, gw = q.shape[:2]
    parity = (np.add.outer(np.arange(gh), np.arange(gw)) % 2).astype(bool)
    for _ in range(iterations):
        for colour in (False, True):
            d = q @ distance  # (gh, gw, C): expected distance of each class to a neighbour
            pair = np.zeros_like(unary)
            pair[1:] += d[:-1]
            pair[:-1] += d[1:]
            pair[:, 1:] += d[:, :-1]
            pair[:, :-1] += d[:, 1:]
            energy = unary + smoothness * pair
            new = np.exp(-(energy - energy.min(-1, keepdims=True)))
            new /= new.sum(-1, keepdims=True)
            q = np.where((parity == colour)[..., None], new, q)
    return q.argmax(-1)


def patch_grid(grey: np.ndarray, stride: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """30×30 patches every ``stride`` px as (N, 1, 30, 30) float32, and the grid's shape."""
    if min(grey.shape) < PATCH:
        raise ConfigError(f"Sun et al. 2015: image {grey.shape[1]}x{grey.shape[0]} is smaller "
                          f"than its {PATCH}x{PATCH} patches")
    x = torch.from_numpy(np.ascontiguousarray(grey, dtype=np.float32))[None, None]
    cols = F.unfold(x, PATCH, stride=stride)  # (1, 900, L)
    gh = (grey.shape[0] - PATCH) // stride + 1
    gw = (grey.shape[1] - PATCH) // stride + 1
    return cols[0].T.reshape(-1, 1, PATCH, PATCH), (gh, gw)


def blend_weights(labels: np.ndarray, kept: list[int], shape: tuple[int, int],
                  stride: int) -> np.ndarray:
    """(len(kept), H, W) per-pixel shares of each kept label, smoothed, summing to 1."""
    h, w = shape
    off = PATCH // 2
    ys = np.clip(np.rint((np.arange(h) - off) / stride).astype(int), 0, labels.shape[0] - 1)
    xs = np.clip(np.rint((np.arange(w) - off) / stride).astype(int), 0, labels.shape[1] - 1)
    dense = labels[np.ix_(ys, xs)]
    weights = np.stack([ndimage.gaussian_filter((dense == c).astype(np.float64), stride)
                        for c in kept])
    return weights / np.maximum(weights.sum(0, keepdims=True), 1e-12)


@dataclass(frozen=True)
class SunParams:
    """Test-time parameters of :class:`SunRestorer` (module doc)."""

    stride: int = 6
    smoothness: float = 0.02
    mrf_iterations: int = 10
    max_kernels: int = 4
    deconvolution: str = "hyper-laplacian"
    final_lam: float = 300.0

    def __post_init__(self) -> None:
        for name in ("stride", "mrf_iterations", "max_kernels"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        for name in ("smoothness", "final_lam"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a number >= 0, got {v!r}")
        if self.deconvolution not in ("wiener", "hyper-laplacian"):
            raise ValueError(f"deconvolution must be wiener or hyper-laplacian, got "
                             f"{self.deconvolution!r}")


def load_sun_model(checkpoint: Path) -> tuple[SunPatchNet, list[tuple[int, float]]]:
    """The trained network (eval mode, CPU) and its classes from a checkpoint of
    :func:`wilddeblur.evaluation.baselines.sun_cnn.train_sun2015`."""
    state = torch.load(Path(checkpoint), map_location="cpu", weights_only=True)
    classes = [(int(length), float(angle)) for length, angle in state["classes"]]
    net = SunPatchNet(len(classes), float(state["width"]))
    net.load_state_dict(state["model"])
    return net.eval(), classes


def motion_field(net: SunPatchNet, classes: list[tuple[int, float]], image: np.ndarray,
                 p: SunParams) -> np.ndarray:
    """(gh, gw) class labels of an (H, W[, 3]) image in [0, 1]: CNN, then the MRF."""
    patches, grid = patch_grid(to_grey(image), p.stride)
    probs = net.probabilities(patches).numpy().reshape(*grid, len(classes))
    return mrf_labels(probs, motion_distance(classes), p.smoothness, p.mrf_iterations)


def deblur_with_field(image: np.ndarray, labels: np.ndarray, classes: list[tuple[int, float]],
                      p: SunParams) -> np.ndarray:
    """Space-varying deconvolution of ``image`` by the field ``labels`` (module doc)."""
    counts = np.bincount(labels.ravel(), minlength=len(classes))
    kept = [int(c) for c in np.argsort(-counts, kind="stable")[: p.max_kernels] if counts[c]]
    distance = motion_distance(classes)
    nearest = np.array(kept)[distance[:, kept].argmin(1)]
    labels = nearest[labels]
    kernels = kernel_stack(classes)
    weights = blend_weights(labels, kept, image.shape[:2], p.stride)
    out = np.zeros_like(image, dtype=np.float64)
    for w, c in zip(weights, kept, strict=True):
        if classes[c][0] <= 1:
            restored = image
        else:
            params = {"lam": p.final_lam} if p.deconvolution == "hyper-laplacian" else {}
            restored = deconvolve(image, kernels[c], p.deconvolution, **params)
        out += (w[..., None] if image.ndim == 3 else w) * restored
    return out


class SunRestorer:
    """A ``restore`` callable for :func:`wilddeblur.evaluation.evaluate.evaluate`: uint8 →
    float; ``fields`` keeps every image's motion field (grid of ``(length, angle)`` labels)."""

    def __init__(self, checkpoint: Path, **params) -> None:
        self.params = merge_params(SunParams, None, params, "Sun 2015")
        self.net, self.classes = load_sun_model(checkpoint)
        self.fields: dict[tuple[str, int], np.ndarray] = {}

    def __call__(self, blurry: np.ndarray, shard, index: int) -> np.ndarray:
        image = np.asarray(blurry, dtype=np.float64) / 255.0
        labels = motion_field(self.net, self.classes, image, self.params)
        self.fields[(str(shard), int(index))] = labels
        return deblur_with_field(image, labels, self.classes, self.params)

    def settings(self) -> dict:
        return asdict(self.params)
