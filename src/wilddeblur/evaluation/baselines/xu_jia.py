"""Two-phase kernel estimation: the paper's Table 2 row "Xu & Jia 2010".

L. Xu, J. Jia, "Two-Phase Kernel Estimation for Robust Motion Deblurring", ECCV 2010 (below:
"X&J"; its steps are named here, not numbered), written here from the paper in numpy/scipy.
The image is in [0, 1]; the kernel is estimated on the grey image, every RGB channel is then
deconvolved.

**Phase one: kernel initialisation** (X&J, first phase), coarse to fine on the pyramid of the L0
baseline (:func:`wilddeblur.evaluation.baselines.l0.pyramid`, ratio 1/√2, coarsest kernel 5 px,
upsampled and re-centred between levels), ``iterations`` = 5 per level:

1. *Edge selection by the r-map* ``r = ‖Σ_{N_h} ∇B‖ / (Σ_{N_h} ‖∇B‖ + 0.5)`` on an
   ``h × h`` window (``window = 5``, X&J); the mask ``M = H(r − τ_r)`` keeps pixels whose
   gradients agree in direction (edges wider than the blur), not thin structures that the blur
   turns into misleading gradients.
2. *Shock filter* (Osher & Rudin, as X&J use it after Gaussian smoothing, σ = 1) on the
   current latent image (the blurry one at first): ``shock_steps`` = 1 step
   ``Ĩ = I − sign(ΔI)‖∇I‖·dt``, ``dt = 0.5``; selected edges ``∇I^s = ∇Ĩ · H(M‖∇Ĩ‖ − τ_s)``
   (X&J's edge selection).
3. *Kernel*: ``min_k ‖∇I^s ⊗ k − ∇B‖² + γ‖k‖²``. X&J solve it by one FFT division;
   here the same energy is minimised on the kernel's support by conjugate gradients
   (:func:`~wilddeblur.evaluation.baselines.l0.estimate_psf`, no wrap-around), then small
   entries and isolated components are removed as in the L0 baseline.
4. *Latent image*: ``min_I ‖I ⊗ k − B‖² + λ‖∇I − ∇I^s‖²``, closed form in the Fourier
   domain on the periodically extended image, ``λ = latent_lambda`` (2e-3); upsampled, it
   starts the next level (restarting each level from the blurry image stalls the kernel near
   a delta, docs/results.md).
5. ``τ_r ← τ_r / 1.1``, ``τ_s ← τ_s / 1.1`` (X&J: more edges each iteration). *Our choice* for
   the initial values (X&J fix them from the image size): ``τ_r`` keeps the ``r_keep`` = ½ of
   the pixels with the largest r; ``τ_s`` keeps at least ``edge_count · √(P_I P_k)`` pixels
   (``edge_count`` = ½, X&J's rule with P_I, P_k the image and kernel sizes) in each of four
   orientation bins, computed once on the coarsest level as in the L0 baseline.

**Phase two: iterative support detection (ISD)** (X&J, second phase), at full resolution on the
last selected edges: ``isd_iterations`` = 3 times, the support ``S = {j: k_j > ε}`` where ``ε``
is the first value of the sorted kernel entries whose step to the next exceeds
``‖k‖_∞ / (2 · side)`` (X&J's "first significant jump"), then
``min_k ½‖∇I^s ⊗ k − ∇B‖² + γ_isd Σ_{j∉S} |k_j|`` by iteratively reweighted least
squares (``irls_iterations`` = 3 per support; X&J use an iterative shrinkage; both minimise
it), negatives clipped, renormalised.

**Final restoration** (*our choice*, as in the L0 baseline): X&J use a TV-ℓ1 deconvolution;
here :func:`~wilddeblur.evaluation.baselines.nonblind.hyper_laplacian_deconvolve` (Krishnan &
Fergus 2009, α = 2/3) with ``final_lam`` = 1000, the L0 baseline's value.

``gamma`` = 50 and ``kernel_size`` = 25 are the L0 baseline's (tuned there on the same kind of
data; X&J's own γ is for their unnormalised FFT form), ``isd_gamma`` = 0.05 (ours).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft
from scipy import ndimage
from skimage.transform import resize

from wilddeblur.evaluation.baselines.kernel_ops import (
    BlindRestorer,
    KernelSearch,
    centre_kernel,
    clean_kernel,
    initial_kernel,
    is_int,
    is_num,
    merge_params,
    upsample_kernel,
)
from wilddeblur.evaluation.baselines.l0 import (
    _grad,
    coarse_to_fine,
    estimate_psf,
    to_grey,
)
from wilddeblur.evaluation.baselines.nonblind import (
    DX,
    DY,
    hyper_laplacian_deconvolve,
    periodic_pad,
    psf2otf,
)


@dataclass(frozen=True)
class XuJiaParams(KernelSearch):
    """Every parameter of :func:`xu_jia_deblur`, defaults and sources in the module doc: the
    shared :class:`~wilddeblur.evaluation.baselines.kernel_ops.KernelSearch` ones and the
    two phases' own."""

    window: int = 5
    r_keep: float = 0.5
    edge_count: float = 0.5
    shock_sigma: float = 1.0
    shock_steps: int = 1
    latent_lambda: float = 2e-3
    isd_iterations: int = 3
    irls_iterations: int = 3
    isd_gamma: float = 0.05

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("window", "shock_steps", "isd_iterations", "irls_iterations"):
            v, least = getattr(self, name), 0 if name == "isd_iterations" else 1
            if not (is_int(v) and v >= least):
                raise ValueError(f"{name} must be an integer >= {least}, got {v!r}")
        for name in ("gamma", "latent_lambda", "isd_gamma", "shock_sigma", "edge_count"):
            v = getattr(self, name)
            if not (is_num(v) and v > 0):
                raise ValueError(f"{name} must be > 0, got {v!r}")
        if not (is_num(self.r_keep) and 0 < self.r_keep <= 1):
            raise ValueError(f"r_keep must be in (0, 1], got {self.r_keep!r}")


def r_map(blurry: np.ndarray, window: int = 5) -> np.ndarray:
    """X&J's r-map: ``‖Σ ∇B‖ / (Σ ‖∇B‖ + 0.5)`` over ``window``² neighbourhoods, (H-1, W-1)."""
    gx, gy = _grad(blurry)
    sx = ndimage.uniform_filter(gx, window, mode="reflect") * window**2
    sy = ndimage.uniform_filter(gy, window, mode="reflect") * window**2
    total = ndimage.uniform_filter(np.hypot(gx, gy), window, mode="reflect") * window**2
    return np.hypot(sx, sy) / (total + 0.5)


def shock_filter(image: np.ndarray, sigma: float = 1.0, steps: int = 1,
                 dt: float = 0.5) -> np.ndarray:
    """``steps`` steps of the shock filter on the Gaussian-smoothed image: sharpens edges."""
    x = ndimage.gaussian_filter(image, sigma, mode="reflect")
    for _ in range(steps):
        gy, gx = np.gradient(x)
        x = x - np.sign(ndimage.laplace(x, mode="reflect")) * np.hypot(gx, gy) * dt
    return x


def magnitude_threshold(mag: np.ndarray, gx: np.ndarray, gy: np.ndarray, count: int) -> float:
    """Largest threshold leaving at least ``count`` pixels of ``mag`` above it in each of four
    45° orientation bins of (gx, gy); 0 where a bin has fewer."""
    angle = np.mod(np.arctan2(gy, gx), np.pi)
    thresholds = []
    for b in range(4):
        values = mag[(angle >= b * np.pi / 4) & (angle < (b + 1) * np.pi / 4)]
        thresholds.append(np.partition(values, values.size - count)[values.size - count]
                          if values.size >= count else 0.0)
    return float(min(thresholds))


def select_edges(latent: np.ndarray, mask: np.ndarray, tau_s: float,
                 sigma: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """X&J's edge selection: shock-filtered gradients inside the r-mask, magnitude > ``tau_s``."""
    gx, gy = _grad(shock_filter(latent, sigma, steps))
    keep = mask & (np.hypot(gx, gy) > tau_s)
    return gx * keep, gy * keep


def latent_from_edges(blurry: np.ndarray, kernel: np.ndarray,
                      edges: tuple[np.ndarray, np.ndarray], lam: float) -> np.ndarray:
    """X&J's latent-image step, ``min_I ‖I ⊗ k − B‖² + λ‖∇I − ∇I^s‖²``, by one FFT division."""
    h, w = blurry.shape
    padded = periodic_pad(blurry, max(kernel.shape))
    shape = padded.shape
    otf, dx, dy = psf2otf(kernel, shape), psf2otf(DX, shape), psf2otf(DY, shape)
    ex, ey = np.zeros(shape), np.zeros(shape)
    ex[: h - 1, : w - 1], ey[: h - 1, : w - 1] = edges  # DX, DY: forward differences too
    num = np.conj(otf) * sfft.rfft2(padded) + lam * (np.conj(dx) * sfft.rfft2(ex)
                                                       + np.conj(dy) * sfft.rfft2(ey))
    den = np.abs(otf) ** 2 + lam * (np.abs(dx) ** 2 + np.abs(dy) ** 2)
    return sfft.irfft2(num / den, s=shape)[:h, :w]


def first_significant_jump(kernel: np.ndarray) -> float:
    """ISD's threshold ε (X&J, second phase): the sorted entries' first step larger than
    ``max / (2 · side)``; entries above it form the support."""
    values = np.sort(kernel.ravel())
    steps = np.diff(values)
    jump = np.flatnonzero(steps > values[-1] / (2 * kernel.shape[0]))
    return float(values[jump[0]]) if jump.size else 0.0


def isd_refine(blurry_grads, edges, kernel: np.ndarray, p: XuJiaParams) -> np.ndarray:
    """Phase two: support detection, then the ℓ1-outside-the-support energy by reweighted
    least squares."""
    side = kernel.shape[0]
    # the support is detected on the raw least-squares kernel (not yet thresholded)
    k = estimate_psf(blurry_grads, edges, side, p.gamma, kernel, p.cg_iterations, 1e-5, 0.0, 0.0)
    for _ in range(p.isd_iterations):
        outside = k <= first_significant_jump(k)
        for _ in range(p.irls_iterations):
            weights = np.where(outside, p.isd_gamma / np.maximum(np.abs(k), 1e-4), 0.0)
            k = estimate_psf(blurry_grads, edges, side, weights, k, p.cg_iterations,
                             1e-5, 0.0, 0.0)
    return clean_kernel(k, p.kernel_threshold, p.min_component)


def estimate_kernel(image: np.ndarray, params: XuJiaParams | None = None,
                    **overrides) -> np.ndarray:
    """Blind kernel estimate (``kernel_size``², centred, ≥ 0, sum 1): phases one and two."""
    p = _params(params, overrides)
    y = to_grey(image)
    k, tau_s0, latent = None, None, None
    for side, ys in coarse_to_fine(y, p.kernel_size, p.scale_ratio, p.min_kernel_size):
        k = initial_kernel(side) if k is None else upsample_kernel(k, 1 / p.scale_ratio, side)
        blurry_grads = _grad(ys)
        r = r_map(ys, p.window)
        tau_r = float(np.quantile(r, 1 - p.r_keep))
        if tau_s0 is None:
            gx, gy = _grad(shock_filter(ys, p.shock_sigma, p.shock_steps))
            count = max(int(p.edge_count * math.sqrt(ys.size * side**2)), 10)
            tau_s0 = magnitude_threshold(np.hypot(gx, gy) * (r > tau_r), gx, gy, count)
        # the latent image carries over between levels (upsampled), as the kernel does
        latent = ys if latent is None else resize(latent, ys.shape, order=1, mode="edge")
        tau_s = tau_s0
        for _ in range(p.iterations):
            edges = select_edges(latent, r > tau_r, tau_s, p.shock_sigma, p.shock_steps)
            k = estimate_psf(blurry_grads, edges, side, p.gamma, k, p.cg_iterations, 1e-5,
                             p.kernel_threshold, p.min_component)
            latent = latent_from_edges(ys, k, edges, p.latent_lambda)
            tau_r *= p.threshold_decay
            tau_s *= p.threshold_decay
        k = centre_kernel(k)
    k = isd_refine(blurry_grads, edges, k, p)
    return centre_kernel(k)


def xu_jia_deblur(image: np.ndarray, params: XuJiaParams | None = None,
                  **overrides) -> tuple[np.ndarray, np.ndarray]:
    """Blind deblurring: ``(restored, kernel)`` of an (H, W) or (H, W, 3) image in [0, 1]
    (restored not clipped)."""
    p = _params(params, overrides)
    x = np.asarray(image, dtype=np.float64)
    kernel = estimate_kernel(x, p)
    return hyper_laplacian_deconvolve(x, kernel, lam=p.final_lam, alpha=p.final_alpha), kernel


def _params(params: XuJiaParams | None, overrides: dict) -> XuJiaParams:
    return merge_params(XuJiaParams, params, overrides, "Xu & Jia")


class XuJiaRestorer(BlindRestorer):
    """:class:`~wilddeblur.evaluation.baselines.kernel_ops.BlindRestorer` by
    :func:`xu_jia_deblur`."""

    deblur = staticmethod(xu_jia_deblur)
    params_class, label = XuJiaParams, "Xu & Jia"
