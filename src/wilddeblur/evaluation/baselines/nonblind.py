"""Non-blind deconvolution with a known kernel: the "oracle" of the shift-invariant test set and
the last step of the L0 blind baseline (:mod:`wilddeblur.evaluation.baselines.l0`).

Conventions (those of :func:`wilddeblur.training.synthetic_blur.blur_valid`): images are float
arrays in
[0, 1], (H, W) or (H, W, C); a kernel is a 2-D array with odd sides, non-negative, summing to 1,
whose centre pixel ``(kh // 2, kw // 2)`` is the zero displacement; blur is a *true*
convolution, ``b[y, x] = Σ_{u,v} k[u, v] · s[y - (u - kh//2), x - (v - kw//2)]``. This is how
the SI test shard is made: its blurry image is the 'valid' blur of a larger sharp image and its
sharp image the centre of that one, so ``blurry = k ∗ sharp`` with the kernel centred, and the
pixels near the border saw sharp pixels that are *not* in the shard.

**Edge handling** (both methods). The FFT solves below assume a periodic image. The blurry
image is therefore extended by :func:`periodic_pad` to an FFT-friendly size at least
``margin`` (default: the kernel's size) larger in each direction; the extension is a linear
blend from the last row (column) back to the first, so the extended image is continuous when
wrapped around (the idea of Liu & Jia, "Reducing boundary artifacts in image deconvolution",
ICIP 2008, in its simplest form: a 1-D harmonic fill along each axis rather than their 2-D
one). The deconvolved image is cropped back to the input's size. It did better than
MATLAB-style ``edgetaper`` of a reflect-padded image (docs/results.md).

**Methods.**

* :func:`wiener_deconvolve`: the Wiener filter with a power-law image spectrum,
  ``X = conj(K)·Y / (|K|² + nsr·(|Dx|² + |Dy|²))``, ``Dx``/``Dy`` the forward differences: the
  minimum-mean-square-error linear estimate when the noise is white with variance σ² and the
  image gradients are white with variance σ_g² (the 1/|ω|² spectrum of natural images), so
  ``nsr = (noise_sigma / gradient_sigma)²``. ``noise_sigma`` defaults to 0.01, the σ of the SI
  test set (Chakrabarti's); ``gradient_sigma`` = 0.07 was tuned here (docs/results.md).
* :func:`hyper_laplacian_deconvolve`: Krishnan & Fergus, "Fast image deconvolution using
  hyper-Laplacian priors", NIPS 2009: ``min_x λ/2 ‖k ∗ x − y‖² + Σ |∇x|^α`` by half-quadratic
  splitting, β from ``beta_start`` = 1 to ``beta_max`` = 256 multiplied by 2√2 each time, one
  inner iteration per β (their published schedule), α = 2/3 (one of their two closed-form
  cases; here the per-pixel w-step is solved for any 0 < α < 1 by Newton's method on a table
  of 2¹⁴+1 values, interpolated, as in their lookup-table variant), λ = 2000 (tuned here on the
  SI test set's kind of blur and noise; docs/results.md, *The classical baselines' defaults*).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import h5py
import numpy as np
from scipy import fft as sfft

DX = np.array([[1.0, -1.0]])  # forward differences (as kernels, true convolution)
DY = np.array([[1.0], [-1.0]])
LUT_POINTS = 2**14 + 1
LUT_RANGE = 2.0


def check_kernel(kernel, name: str = "kernel") -> np.ndarray:
    """A kernel as float64, normalised to sum 1; 2-D, odd sides, finite, non-negative sum."""
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] % 2 == 0 or k.shape[1] % 2 == 0:
        raise ValueError(f"{name} must be a 2-D array with odd sides, got shape {k.shape}")
    if not np.all(np.isfinite(k)) or k.sum() <= 0:
        raise ValueError(f"{name} must be finite with a positive sum")
    return k / k.sum()


def _positive(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def psf2otf(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The real-FFT transfer function (``rfft2``) at ``shape`` of a centred kernel."""
    kh, kw = kernel.shape
    pad = np.zeros(shape)
    pad[:kh, :kw] = kernel
    pad = np.roll(pad, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    return sfft.rfft2(pad)


def otf2psf(spectrum: np.ndarray, shape: tuple[int, int], ksize: tuple[int, int]) -> np.ndarray:
    """The centred ``ksize`` window of the circular signal whose ``rfft2`` is ``spectrum``."""
    full = sfft.irfft2(spectrum, s=shape)
    rows = (np.arange(ksize[0]) - ksize[0] // 2) % shape[0]
    cols = (np.arange(ksize[1]) - ksize[1] // 2) % shape[1]
    return full[np.ix_(rows, cols)]


def periodic_pad(image: np.ndarray, margin: int) -> np.ndarray:
    """``image`` (H, W, ...) in the top-left corner of a larger array, continuous when wrapped.

    The new size is the next FFT-friendly size at least ``H + margin`` (``W + margin``); the
    added rows blend linearly from the last row to the first, then the added columns (over the
    whole height) from the last column to the first.
    """
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    h, w = image.shape[:2]
    big_h, big_w = sfft.next_fast_len(h + margin, real=True), sfft.next_fast_len(w + margin,
                                                                              real=True)
    out = np.empty((big_h, big_w, *image.shape[2:]))
    out[:h, :w] = image
    extra = (1,) * (image.ndim - 2)
    t = (np.arange(1, big_h - h + 1) / (big_h - h + 1)).reshape(-1, 1, *extra)
    out[h:, :w] = (1 - t) * image[-1:] + t * image[:1]
    t = (np.arange(1, big_w - w + 1) / (big_w - w + 1)).reshape(1, -1, *extra)
    out[:, w:] = (1 - t) * out[:, w - 1: w] + t * out[:, :1]
    return out


def _channels_first(image) -> tuple[np.ndarray, bool]:
    x = np.asarray(image, dtype=np.float64)
    if x.ndim == 2:
        return x[None], True
    if x.ndim == 3:
        return np.moveaxis(x, -1, 0), False
    raise ValueError(f"image must be (H, W) or (H, W, C), got shape {x.shape}")


def _restore_layout(x: np.ndarray, gray: bool) -> np.ndarray:
    return x[0] if gray else np.moveaxis(x, 0, -1)


def _pad_channels(x: np.ndarray, margin: int) -> np.ndarray:
    """(C, H, W) → (C, H', W') by :func:`periodic_pad`."""
    return np.moveaxis(periodic_pad(np.moveaxis(x, 0, -1), margin), -1, 0)


def _margin(kernel: np.ndarray, margin: int | None) -> int:
    if margin is None:
        return max(kernel.shape)
    if not isinstance(margin, int) or margin < 0:
        raise ValueError(f"margin must be a non-negative integer, got {margin!r}")
    return margin


def wiener_deconvolve(image, kernel, noise_sigma: float = 0.01, gradient_sigma: float = 0.07,
                      margin: int | None = None) -> np.ndarray:
    """Wiener deconvolution with a gradient (1/|ω|²) image prior; see the module docstring.

    ``image`` (H, W) or (H, W, C) float; ``kernel`` centred (odd sides); ``noise_sigma`` and
    ``gradient_sigma`` (on the [0, 1] scale) set ``nsr = (noise_sigma / gradient_sigma)²``;
    ``margin``: the periodic extension (default: the kernel's larger side). Not clipped.
    """
    k = check_kernel(kernel)
    nsr = (_positive("noise_sigma", noise_sigma) / _positive("gradient_sigma", gradient_sigma))
    nsr = nsr**2
    x, gray = _channels_first(image)
    h, w = x.shape[1:]
    padded = _pad_channels(x, _margin(k, margin))
    shape = padded.shape[1:]
    otf = psf2otf(k, shape)
    grad = np.abs(psf2otf(DX, shape)) ** 2 + np.abs(psf2otf(DY, shape)) ** 2
    spectrum = np.conj(otf) * sfft.rfft2(padded) / (np.abs(otf) ** 2 + nsr * grad)
    return _restore_layout(sfft.irfft2(spectrum, s=shape)[:, :h, :w], gray)


@lru_cache(maxsize=64)
def _shrink_table(alpha: float, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """``v`` and ``v - w*(v)``, ``w*(v) = argmin_w |w|^α + β/2 (w - v)²``, on a grid of ``v``."""
    v = np.linspace(0.0, LUT_RANGE, (LUT_POINTS + 1) // 2)
    if alpha == 1.0:
        w = np.maximum(v - 1.0 / beta, 0.0)
    else:
        # f(w) = α w^(α-1) + β (w - v) is convex on w > 0; Newton from w = v decreases
        # monotonically to the larger root (the local minimum of the energy) when one exists.
        w = v.copy()
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for _ in range(40):
                ws = np.maximum(w, 1e-12)
                f = alpha * ws ** (alpha - 1) + beta * (ws - v)
                fp = alpha * (alpha - 1) * ws ** (alpha - 2) + beta
                w = np.where(fp > 0, ws - f / fp, 0.0)
                w = np.clip(np.nan_to_num(w), 0.0, v)
            energy = w**alpha + beta / 2 * (w - v) ** 2
        w = np.where((w > 0) & (energy < beta / 2 * v**2), w, 0.0)
    v_all = np.concatenate([-v[:0:-1], v])
    shrink = np.concatenate([-(v - w)[:0:-1], v - w])
    return v_all, shrink


def _shrink(values: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Per-pixel hyper-Laplacian w-step; beyond the table the shrinkage is held at its end
    value (it decreases with |v|)."""
    if alpha == 2.0:
        return values * beta / (2.0 + beta)
    grid, shrink = _shrink_table(alpha, beta)
    return values - np.interp(values, grid, shrink)


def hyper_laplacian_deconvolve(image, kernel, lam: float = 2000.0, alpha: float = 2 / 3,
                               beta_start: float = 1.0, beta_max: float = 256.0,
                               beta_rate: float = 2 * math.sqrt(2), inner_iterations: int = 1,
                               margin: int | None = None) -> np.ndarray:
    """Krishnan & Fergus (NIPS 2009) deconvolution, ``min λ/2 ‖k∗x − y‖² + Σ|∇x|^α``.

    ``lam``: data weight λ (2000, tuned for σ = 0.01; Krishnan & Fergus's demo uses 2000 too);
    ``alpha``: exponent in (0, 1] (2/3, theirs; 1 gives anisotropic TV); ``beta_start``,
    ``beta_max``, ``beta_rate``: the half-quadratic continuation (1, 256, 2√2: theirs);
    ``inner_iterations`` per β (1: theirs); ``margin``: as in :func:`wiener_deconvolve`.
    ``image`` (H, W) or (H, W, C) float, channels solved independently. Not clipped.
    """
    k = check_kernel(kernel)
    lam = _positive("lam", lam)
    if not (isinstance(alpha, int | float) and 0 < alpha <= 1):
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
    beta = _positive("beta_start", beta_start)
    beta_max = _positive("beta_max", beta_max)
    if not (isinstance(beta_rate, int | float) and beta_rate > 1):
        raise ValueError(f"beta_rate must be > 1, got {beta_rate!r}")
    if not (isinstance(inner_iterations, int) and inner_iterations >= 1):
        raise ValueError(f"inner_iterations must be a positive integer, got {inner_iterations!r}")
    x, gray = _channels_first(image)
    h, w = x.shape[1:]
    padded = _pad_channels(x, _margin(k, margin))
    shape = padded.shape[1:]
    otf, dx, dy = psf2otf(k, shape), psf2otf(DX, shape), psf2otf(DY, shape)
    data = lam * np.conj(otf) * sfft.rfft2(padded)
    k2, d2 = lam * np.abs(otf) ** 2, np.abs(dx) ** 2 + np.abs(dy) ** 2
    latent, spectrum = padded, sfft.rfft2(padded)
    while beta <= beta_max * (1 + 1e-9):
        for _ in range(inner_iterations):
            wx = _shrink(sfft.irfft2(dx * spectrum, s=shape), float(alpha), beta)
            wy = _shrink(sfft.irfft2(dy * spectrum, s=shape), float(alpha), beta)
            rhs = data + beta * (np.conj(dx) * sfft.rfft2(wx) + np.conj(dy) * sfft.rfft2(wy))
            spectrum = rhs / (k2 + beta * d2)
        beta *= beta_rate
    latent = sfft.irfft2(spectrum, s=shape)
    return _restore_layout(latent[:, :h, :w], gray)


NONBLIND_METHODS: dict[str, Callable[..., np.ndarray]] = {
    "wiener": wiener_deconvolve,
    "hyper-laplacian": hyper_laplacian_deconvolve,
}


def deconvolve(image, kernel, method: str = "wiener", **params) -> np.ndarray:
    """Non-blind deconvolution by ``method`` (``wiener`` or ``hyper-laplacian``)."""
    if method not in NONBLIND_METHODS:
        raise ValueError(f"method must be one of {sorted(NONBLIND_METHODS)}, got {method!r}")
    return NONBLIND_METHODS[method](image, kernel, **params)


class KernelOracle:
    """Restore SI test images with their true kernels: a ``restore`` callable for
    :func:`wilddeblur.evaluation.evaluate.evaluate`.

    ``oracle(blurry, shard, index)`` reads ``kernel_index[index]`` of ``shard`` (written by
    :func:`wilddeblur.training.synthetic_blur.write_si_test_shard`) and that kernel from ``bank``,
    and
    deconvolves the uint8 image by ``method`` with ``params``. A shard without
    ``kernel_index`` (a WILD shard) raises ValueError naming the shard. Use as a context manager
    (or call :meth:`close`) to close the bank.
    """

    def __init__(self, bank: Path, method: str = "wiener", **params) -> None:
        from wilddeblur.dataset.kernels import open_kernel_bank

        if method not in NONBLIND_METHODS:
            raise ValueError(f"method must be one of {sorted(NONBLIND_METHODS)}, got {method!r}")
        self.method, self.params = method, params
        self.bank = open_kernel_bank(Path(bank))
        self._indices: dict[Path, np.ndarray] = {}

    def kernel_for(self, shard: Path, index: int) -> np.ndarray:
        shard = Path(shard)
        if shard not in self._indices:
            with h5py.File(shard, "r") as f:
                if "kernel_index" not in f:
                    raise ValueError(f"{shard}: no kernel_index dataset (not an SI test shard); "
                                     "the oracle needs the true kernels")
                self._indices[shard] = f["kernel_index"][()]
        return self.bank["kernels"][int(self._indices[shard][index])]

    def __call__(self, blurry: np.ndarray, shard: Path, index: int) -> np.ndarray:
        image = np.asarray(blurry, dtype=np.float64) / 255.0
        return deconvolve(image, self.kernel_for(shard, index), self.method, **self.params)

    def close(self) -> None:
        self.bank.close()

    def __enter__(self) -> KernelOracle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
