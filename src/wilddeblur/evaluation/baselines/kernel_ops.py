"""Kernel helpers of the blind baselines (:mod:`wilddeblur.evaluation.baselines.l0`,
:mod:`~wilddeblur.evaluation.baselines.xu_jia`): the initial kernel, cleaning, centring and
upsampling between pyramid levels (Pan et al. 2014's code), the normalised cross-correlation
that scores an estimated kernel against the true one, and what their restorers share
(:class:`KernelSearch`, :func:`merge_params`, :class:`BlindRestorer`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage
from skimage.transform import resize


def initial_kernel(side: int) -> np.ndarray:
    """Two central pixels of weight ½, side by side (Pan's ``init_kernel``)."""
    k = np.zeros((side, side))
    c = side // 2
    k[c, c - 1: c + 1] = 0.5
    return k


def clean_kernel(k: np.ndarray, threshold: float = 0.05, min_component: float = 0.1) -> np.ndarray:
    """Zero entries below ``threshold``·max and 8-connected components with less than
    ``min_component`` of the mass; clip negatives; renormalise (a delta if nothing is left)."""
    k = np.where(k < threshold * k.max(), 0.0, k)
    k = np.maximum(k, 0.0)
    total = k.sum()
    if total > 0 and min_component > 0:
        labels, n = ndimage.label(k > 0, structure=np.ones((3, 3)))
        if n > 1:
            mass = ndimage.sum(k, labels, index=np.arange(1, n + 1)) / total
            k[np.isin(labels, np.flatnonzero(mass < min_component) + 1)] = 0.0
            total = k.sum()
    if total <= 0:
        k = np.zeros_like(k)
        k[k.shape[0] // 2, k.shape[1] // 2] = 1.0
        return k
    return k / total


def centre_kernel(k: np.ndarray) -> np.ndarray:
    """Shift ``k`` (bilinear) so that its centroid is the centre pixel (Pan's
    ``adjust_psf_center``); clipped and renormalised."""
    yy, xx = np.mgrid[: k.shape[0], : k.shape[1]]
    total = k.sum()
    if total <= 0:
        return k
    cy, cx = (k * yy).sum() / total, (k * xx).sum() / total
    shifted = ndimage.shift(k, (k.shape[0] // 2 - cy, k.shape[1] // 2 - cx), order=1,
                            mode="constant")
    shifted = np.maximum(shifted, 0.0)
    return shifted / shifted.sum() if shifted.sum() > 0 else k


def upsample_kernel(k: np.ndarray, factor: float, side: int) -> np.ndarray:
    """Resize ``k`` by ``factor`` (bilinear), fit it centred into ``side``×``side``."""
    size = max(int(round(k.shape[0] * factor)), 1)
    size += size % 2 == 0
    big = np.maximum(resize(k, (size, size), order=1, anti_aliasing=False, mode="constant"), 0)
    out = np.zeros((side, side))
    if size >= side:
        o = (size - side) // 2
        out[:] = big[o: o + side, o: o + side]
    else:
        o = (side - size) // 2
        out[o: o + size, o: o + size] = big
    return out / out.sum() if out.sum() > 0 else initial_kernel(side)


def kernel_ncc(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Normalised cross-correlation of two kernels at their best relative (integer) shift, in
    [0, 1] for non-negative kernels: 1 when one is a shifted copy of the other."""
    from scipy.signal import correlate2d

    a, b = np.asarray(estimate, np.float64), np.asarray(truth, np.float64)
    norm = math.sqrt(float((a**2).sum() * (b**2).sum()))
    return float(correlate2d(a, b, mode="full").max() / norm) if norm > 0 else 0.0


@dataclass(frozen=True)
class KernelSearch:
    """The parameters both blind baselines share, with Pan et al. 2014's defaults: the kernel
    size and its coarse-to-fine pyramid, the iterations per level, the kernel's L2 weight and
    its conjugate-gradient solve, the kernel cleaning, the edge-threshold decay, and the final
    hyper-Laplacian deconvolution."""

    kernel_size: int = 25
    iterations: int = 5
    scale_ratio: float = 1 / math.sqrt(2)
    min_kernel_size: int = 5
    gamma: float = 50.0
    cg_iterations: int = 20
    kernel_threshold: float = 0.05
    min_component: float = 0.1
    threshold_decay: float = 1 / 1.1
    final_lam: float = 1000.0
    final_alpha: float = 2 / 3

    def __post_init__(self) -> None:
        def need(ok: bool, name: str, what: str) -> None:
            if not ok:
                raise ValueError(f"{name} must be {what}, got {getattr(self, name)!r}")

        need(is_int(self.kernel_size) and self.kernel_size >= 3 and self.kernel_size % 2 == 1,
             "kernel_size", "an odd integer >= 3")
        need(is_int(self.min_kernel_size) and 3 <= self.min_kernel_size, "min_kernel_size",
             "an integer >= 3")
        for name in ("iterations", "cg_iterations"):
            need(is_int(getattr(self, name)) and getattr(self, name) >= 1, name,
                 "a positive integer")
        need(is_num(self.final_lam) and self.final_lam > 0, "final_lam", "> 0")
        need(is_num(self.gamma) and self.gamma >= 0, "gamma", ">= 0")
        need(is_num(self.scale_ratio) and 0 < self.scale_ratio < 1, "scale_ratio", "in (0, 1)")
        for name in ("kernel_threshold", "min_component"):
            need(is_num(getattr(self, name)) and 0 <= getattr(self, name) < 1, name, "in [0, 1)")
        for name in ("threshold_decay", "final_alpha"):
            need(is_num(getattr(self, name)) and 0 < getattr(self, name) <= 1, name,
                 "in (0, 1]")


def is_int(v) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def is_num(v) -> bool:
    return isinstance(v, int | float | np.number) and not isinstance(v, bool) and math.isfinite(v)


def merge_params(cls: type, params, overrides: dict, label: str):
    """``cls`` (a parameter dataclass) from ``params`` (an instance, or None for the
    defaults) with ``overrides``; an unknown name is a ValueError naming it and the known."""
    fields = sorted(cls.__dataclass_fields__)
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ValueError(f"unknown {label} parameter(s) {unknown}; known: {fields}")
    return cls(**((asdict(params) if params is not None else {}) | overrides))


class BlindRestorer:
    """A ``restore`` callable for :func:`wilddeblur.evaluation.evaluate.evaluate`: uint8 blurry
    image → deblurred float image by ``deblur(image, params) -> (restored, kernel)``;
    ``kernels`` keeps the estimated kernel of every image. Subclasses set ``deblur``,
    ``params_class`` and ``label``."""

    deblur: Callable[..., tuple[np.ndarray, np.ndarray]]
    params_class: type
    label: str

    def __init__(self, params=None, **overrides) -> None:
        self.params = merge_params(self.params_class, params, overrides, self.label)
        self.kernels: dict[tuple[str, int], np.ndarray] = {}

    def __call__(self, blurry: np.ndarray, shard, index: int) -> np.ndarray:
        restored, kernel = type(self).deblur(np.asarray(blurry, np.float64) / 255.0, self.params)
        self.kernels[(str(shard), int(index))] = kernel
        return restored
