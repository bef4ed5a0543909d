"""Blind deblurring with an L0-regularised gradient (and intensity) prior: the paper's [44].

The paper's Table 2 row "Xu et al. 2013" is L. Xu, S. Zheng, J. Jia, "Unnatural L0 Sparse
Representation for Natural Image Deblurring", CVPR 2013. This module implements the widely used
*successor form* of that model, J. Pan, Z. Hu, Z. Su, M.-H. Yang, "Deblurring Text Images via
L0-Regularized Intensity and Gradient Prior", CVPR 2014 (and its public MATLAB code), with the
intensity term off by default, which leaves Xu et al.'s L0 gradient prior; the schedule and
defaults below are Pan et al.'s, as also documented by J. Anger, G. Facciolo, M. Delbracio,
"Blind Image Deblurring using the l0 Gradient Prior", IPOL 2019 (hereafter "IPOL"). It is
*not* Xu et al.'s exact algorithm: their approximating family of L0 functions, their kernel
regularisation and their final restoration are not reproduced. Written from the papers'
equations, in numpy/scipy.

**Model.** ``min_{x,k} ‖k ∗ x − y‖² + λ_g ‖∇x‖₀ + λ_p ‖x‖₀ + γ ‖k‖²`` with ``k ≥ 0``,
``Σk = 1``, on the grey image ``y`` (the kernel is estimated in grey; the final
deconvolution restores each RGB channel).

**Algorithm** (coarse to fine; each step is a function here):

1. *Pyramid* (:func:`pyramid`): kernel sizes ``ceil(kernel_size · r^s)`` made odd, image
   scales ``r^s``, ``r = scale_ratio = 1/√2`` (Pan), for ``s = 0 … S`` with ``S`` the largest
   such that the kernel is still at least ``min_kernel_size = 5`` pixels (Pan). The image is
   resized with anti-aliasing and bilinear interpolation (scikit-image ``resize``; Pan's code
   uses Levin's Gaussian prefilter and interpolation to the same effect).
   The coarsest kernel starts as two central pixels of weight ½ side by side (Pan's
   ``init_kernel``).
2. At each scale, ``iterations = 5`` times (Pan; IPOL):

   a. *Latent image* (:func:`l0_restore`): half-quadratic splitting (Xu et al. 2011 "L0
      smoothing", as used by Xu 2013 and Pan 2014): auxiliary gradients ``g`` (and intensities
      ``u``) with weight β (μ), starting at ``2 λ_g`` (``2 λ_p``) and multiplied by
      ``kappa = 2`` until ``beta_max = 1e5`` (Pan); ``g = ∇x · [|∇x|² ≥ λ_g / β]`` (hard
      threshold), ``u = x · [x² ≥ λ_p / μ]``, then ``x`` by one FFT solve
      ``(|K|² + μ + β |D|²) X = conj(K) Y + μ U + β conj(D) G``, on the blurry image extended by
      :func:`wilddeblur.evaluation.baselines.nonblind.periodic_pad` (Pan uses Liu & Jia's padding).
   b. *Salient gradients* (:func:`salient_gradients`, Pan's ``threshold_pxpy_v1`` after Cho &
      Lee 2009): latent-image gradients whose squared magnitude is below a threshold are set
      to 0. As in Pan's code the threshold is computed once, on the blurry image at the
      coarsest scale (:func:`gradient_threshold`: the largest value that leaves at least
      ``max(20 · kernel side, 10)`` pixels above it in each of four orientation bins), starts
      every scale at that value and is multiplied by ``threshold_decay = 1/1.1`` after every
      iteration. ``adaptive_threshold = True`` instead recomputes it on each latent image
      (Cho & Lee's rule; worse here, docs/results.md).
   c. *Kernel* (:func:`estimate_psf`): least squares on gradients,
      ``min_k ‖∇x ∗ k − ∇y‖² + γ ‖k‖²``, ``gamma = 50`` (*tuned here*, docs/results.md: Pan's
      code uses 2 and IPOL's default is 20, weights that let noise spread over the whole kernel
      support on textured and on mostly flat images), solved by conjugate gradients
      (``cg_iterations = 20``, relative tolerance ``cg_tol = 1e-5``, Pan) with the normal
      operator applied in the Fourier domain (zero-padded, so no wrap-around); then entries below
      ``kernel_threshold = 0.05`` × the maximum are zeroed (Pan, IPOL), 8-connected components
      holding less than ``min_component = 0.1`` of the mass are removed (Pan; IPOL's
      ``remove-isolated``), negatives clipped and the kernel renormalised to sum 1.
   d. ``λ_g ← max(λ_g · lambda_decay, lambda_min)`` (same for ``λ_p``), ``lambda_decay = 1/1.1``,
      ``lambda_min = 1e-4`` (Pan; IPOL), carried over to the next scale.

   After a scale the kernel is re-centred on its centroid (bilinear shift; Pan's
   ``adjust_psf_center``), then upsampled by ``1/r`` (bilinear) into the next size.
3. Finally entries below ``kernel_threshold`` × max are zeroed (Pan's ``k_thresh = 20``), and
   every RGB channel is deconvolved with :func:`~wilddeblur.evaluation.baselines.nonblind.
   hyper_laplacian_deconvolve` (Krishnan & Fergus 2009), ``final_alpha = 2/3`` (theirs),
   ``final_lam = 1000`` (*tuned here*, docs/results.md; the oracle, with the true kernel, is
   best at 2000; with little blur the estimate errs toward a small blob and a strong
   deconvolution overshoots, so ``final_lam`` is configurable). *Our choice*: Xu 2013 and Pan
   2014 use other final steps (Pan: a TV/L0 combination with ringing suppression); the
   hyper-Laplacian one is the common neutral choice, the same as for the oracle.

``lambda_grad = 4e-3`` (Pan; IPOL), ``lambda_pixel = 0`` (*our choice*: Pan's text default is
4e-3; its intensity term models text/saturated images, and 0 leaves Xu's gradient-only
prior), ``kernel_size = 25`` (*our choice*: the WILD blur spans at most Ne − 1 ≤ 22 px since
the flow between frames is ≤ 1 px; Pan's natural-image examples use 25-55; larger sizes did
worse here, docs/results.md), ``lambda_min = 1e-4`` (Pan; IPOL),
``gamma_correct = 1`` (Pan's option: ``y^γ`` before the kernel estimate; 1 = none, as WILD's
blur is a mean of sRGB values). Speed: docs/benchmarks.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft
from skimage.transform import resize

from wilddeblur.errors import ConfigError
from wilddeblur.evaluation.baselines.kernel_ops import (  # noqa: E402
    BlindRestorer,
    KernelSearch,
    centre_kernel,
    clean_kernel,
    initial_kernel,
    is_num,
    merge_params,
    upsample_kernel,
)
from wilddeblur.evaluation.baselines.nonblind import (
    DX,
    DY,
    hyper_laplacian_deconvolve,
    otf2psf,
    periodic_pad,
    psf2otf,
)

GREY_WEIGHTS = np.array([0.2125, 0.7154, 0.0721])  # scikit-image's rgb2gray (ITU-R BT.709)


@dataclass(frozen=True)
class L0Params(KernelSearch):
    """Every parameter of :func:`l0_deblur`, with the defaults and sources of the module doc:
    the shared :class:`~wilddeblur.evaluation.baselines.kernel_ops.KernelSearch` ones and the
    L0 prior's own."""

    lambda_grad: float = 4e-3
    lambda_pixel: float = 0.0
    lambda_decay: float = 1 / 1.1
    lambda_min: float = 1e-4
    kappa: float = 2.0
    beta_max: float = 1e5
    cg_tol: float = 1e-5
    gamma_correct: float = 1.0
    adaptive_threshold: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("lambda_grad", "lambda_min", "beta_max", "gamma_correct", "cg_tol"):
            if not (is_num(getattr(self, name)) and getattr(self, name) > 0):
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not (is_num(self.lambda_pixel) and self.lambda_pixel >= 0):
            raise ValueError(f"lambda_pixel must be >= 0, got {self.lambda_pixel!r}")
        if not (is_num(self.lambda_decay) and 0 < self.lambda_decay <= 1):
            raise ValueError(f"lambda_decay must be in (0, 1], got {self.lambda_decay!r}")
        if not (is_num(self.kappa) and self.kappa > 1):
            raise ValueError(f"kappa must be > 1, got {self.kappa!r}")


def to_grey(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) → (H, W) with scikit-image's luminance weights; (H, W) passes through."""
    x = np.asarray(image, dtype=np.float64)
    if x.ndim == 2:
        return x
    if x.ndim == 3 and x.shape[2] == 3:
        return x @ GREY_WEIGHTS
    raise ValueError(f"image must be (H, W) or (H, W, 3), got shape {x.shape}")


def pyramid(kernel_size: int, scale_ratio: float, min_kernel_size: int) -> list[tuple[float, int]]:
    """``(image scale, kernel side)`` per level, coarsest first (Pan's ``blind_deconv.m``)."""
    levels = max(int(math.floor(math.log(min_kernel_size / kernel_size)
                                / math.log(scale_ratio))), 0) + 1
    out = []
    for s in range(levels):
        scale = scale_ratio**s
        side = math.ceil(kernel_size * scale - 1e-9)
        out.append((scale, side + (side % 2 == 0)))
    return out[::-1]


def coarse_to_fine(y: np.ndarray, kernel_size: int, scale_ratio: float,
                   min_kernel_size: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(kernel side, grey image at that scale)`` per level of :func:`pyramid`, coarsest
    first (step 1); an image smaller than twice the kernel is a ConfigError."""
    if min(y.shape) < 2 * kernel_size:
        raise ConfigError(f"kernel_size {kernel_size}: image {y.shape[1]}x{y.shape[0]} is "
                          "too small (blind deblurring needs at least twice the kernel side)")
    for scale, side in pyramid(kernel_size, scale_ratio, min_kernel_size):
        shape = (max(int(round(y.shape[0] * scale)), 2 * side),
                 max(int(round(y.shape[1] * scale)), 2 * side))
        yield side, (y if scale == 1 else resize(y, shape, order=1, anti_aliasing=True,
                                                 mode="edge"))


def _grad(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward differences on the 'valid' (H-1, W-1) grid (Pan's ``conv2(·, dx, 'valid')``)."""
    return x[:-1, 1:] - x[:-1, :-1], x[1:, :-1] - x[:-1, :-1]


def l0_restore(blurry: np.ndarray, kernel: np.ndarray, lambda_grad: float,
               lambda_pixel: float = 0.0, kappa: float = 2.0,
               beta_max: float = 1e5) -> np.ndarray:
    """Latent grey image under the L0 gradient (+ intensity) prior, by half-quadratic splitting.

    ``min_x ‖k ∗ x − y‖² + λ_g ‖∇x‖₀ + λ_p ‖x‖₀``; see step 2a of the module docstring.
    """
    h, w = blurry.shape
    padded = periodic_pad(blurry, max(kernel.shape))
    shape = padded.shape
    otf, dx, dy = psf2otf(kernel, shape), psf2otf(DX, shape), psf2otf(DY, shape)
    data = np.conj(otf) * sfft.rfft2(padded)
    k2, d2 = np.abs(otf) ** 2, np.abs(dx) ** 2 + np.abs(dy) ** 2
    x = padded
    beta = 2 * lambda_grad
    mu = 2 * lambda_pixel
    while beta < beta_max:
        # circular forward differences, and their adjoint applied in the Fourier domain
        gx = np.roll(x, -1, axis=1) - x
        gy = np.roll(x, -1, axis=0) - x
        small = gx**2 + gy**2 < lambda_grad / beta
        gx[small] = 0.0
        gy[small] = 0.0
        rhs = data + beta * (np.conj(dx) * sfft.rfft2(gx) + np.conj(dy) * sfft.rfft2(gy))
        den = k2 + beta * d2
        if lambda_pixel > 0:
            u = np.where(x**2 < lambda_pixel / mu, 0.0, x)
            rhs = rhs + mu * sfft.rfft2(u)
            den = den + mu
            mu = min(mu * kappa, beta_max)
        x = sfft.irfft2(rhs / den, s=shape)
        beta *= kappa
    return x[:h, :w]


def gradient_threshold(image: np.ndarray, kernel_side: int) -> float:
    """The largest squared gradient magnitude that leaves at least ``max(20 · kernel_side, 10)``
    pixels above it in each of four orientation bins (Pan's ``threshold_pxpy_v1``, after Cho &
    Lee 2009); 0 when a bin has fewer pixels than that."""
    px, py = _grad(image)
    mag = px**2 + py**2
    with np.errstate(divide="ignore", invalid="ignore"):
        angle = np.arctan(py / px)
    keep = max(20 * kernel_side, 10)
    threshold = np.inf
    for lo, hi in ((0, np.pi / 4), (np.pi / 4, np.pi / 2), (-np.pi / 4, 0),
                   (-np.pi / 2, -np.pi / 4)):
        values = mag[(angle >= lo) & (angle < hi)]
        t = (np.partition(values, values.size - keep)[values.size - keep]
             if values.size >= keep else 0.0)
        threshold = min(threshold, float(t))
    return threshold if np.isfinite(threshold) else 0.0


def salient_gradients(latent: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of ``latent`` with squared magnitude below ``threshold`` set to 0 (step 2b;
    the threshold is lowered by 0.81 while that would leave none, as in Pan's code)."""
    px, py = _grad(latent)
    mag = px**2 + py**2
    small = mag < threshold
    while small.all() and threshold > 0:
        threshold *= 0.81
        small = mag < threshold
    px[small] = 0.0
    py[small] = 0.0
    return px, py


def _conjugate_gradient(apply, b: np.ndarray, x: np.ndarray, iterations: int,
                        tol: float) -> np.ndarray:
    r = b - apply(x)
    p = r.copy()
    rr = float(np.vdot(r, r))
    stop = tol**2 * float(np.vdot(b, b))
    for _ in range(iterations):
        if rr <= stop:
            break
        ap = apply(p)
        step = rr / float(np.vdot(p, ap))
        x = x + step * p
        r = r - step * ap
        rr_new = float(np.vdot(r, r))
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def estimate_psf(blurry_grads: tuple[np.ndarray, np.ndarray],
                 latent_grads: tuple[np.ndarray, np.ndarray], side: int, gamma: float,
                 init: np.ndarray, cg_iterations: int = 20, cg_tol: float = 1e-5,
                 kernel_threshold: float = 0.05, min_component: float = 0.1) -> np.ndarray:
    """Kernel update ``min_k ‖∇x ∗ k − ∇y‖² + γ‖k‖²``, then thresholding (step 2c)."""
    h, w = blurry_grads[0].shape
    shape = (sfft.next_fast_len(h + side, real=True), sfft.next_fast_len(w + side, real=True))
    lat = [sfft.rfft2(g, s=shape) for g in latent_grads]
    blr = [sfft.rfft2(g, s=shape) for g in blurry_grads]
    normal = sum(np.abs(f) ** 2 for f in lat)
    b = otf2psf(sum(np.conj(fl) * fb for fl, fb in zip(lat, blr, strict=True)), shape,
                (side, side))

    def apply(k: np.ndarray) -> np.ndarray:
        return otf2psf(normal * psf2otf(k, shape), shape, (side, side)) + gamma * k

    k = _conjugate_gradient(apply, b, init.astype(np.float64), cg_iterations, cg_tol)
    return clean_kernel(k, kernel_threshold, min_component)


def estimate_kernel(image: np.ndarray, params: L0Params | None = None,
                    **overrides) -> np.ndarray:
    """Blind kernel estimate (``kernel_size``², centred, ≥ 0, sum 1) of a grey or RGB image in
    [0, 1], coarse to fine (steps 1-3 of the module docstring)."""
    p = _params(params, overrides)
    y = to_grey(image)
    if p.gamma_correct != 1:
        y = np.clip(y, 0, 1) ** p.gamma_correct
    lam_g, lam_p = p.lambda_grad, p.lambda_pixel
    k, start_threshold = None, None
    for side, ys in coarse_to_fine(y, p.kernel_size, p.scale_ratio, p.min_kernel_size):
        k = initial_kernel(side) if k is None else upsample_kernel(k, 1 / p.scale_ratio, side)
        blurry_grads = _grad(ys)
        if start_threshold is None:
            start_threshold = gradient_threshold(ys, side)
        threshold = start_threshold
        for _ in range(p.iterations):
            latent = l0_restore(ys, k, lam_g, lam_p, p.kappa, p.beta_max)
            if p.adaptive_threshold:
                threshold = gradient_threshold(latent, side)
            grads = salient_gradients(latent, threshold)
            threshold *= p.threshold_decay
            k = estimate_psf(blurry_grads, grads, side, p.gamma, k,
                             p.cg_iterations, p.cg_tol, p.kernel_threshold, p.min_component)
            lam_g = max(lam_g * p.lambda_decay, p.lambda_min)
            lam_p = max(lam_p * p.lambda_decay, p.lambda_min) if lam_p > 0 else 0.0
        k = centre_kernel(k)
    return clean_kernel(k, p.kernel_threshold, 0.0)


def l0_deblur(image: np.ndarray, params: L0Params | None = None,
              **overrides) -> tuple[np.ndarray, np.ndarray]:
    """Blind deblurring: ``(restored, kernel)``. ``image`` (H, W) or (H, W, 3) float in
    [0, 1]; the kernel is estimated in grey, then every channel is deconvolved (not clipped).
    ``params`` (an :class:`L0Params`) and/or keyword overrides of its fields."""
    p = _params(params, overrides)
    x = np.asarray(image, dtype=np.float64)
    kernel = estimate_kernel(x, p)
    restored = hyper_laplacian_deconvolve(x, kernel, lam=p.final_lam, alpha=p.final_alpha)
    return restored, kernel


def _params(params: L0Params | None, overrides: dict) -> L0Params:
    return merge_params(L0Params, params, overrides, "L0")


class L0Restorer(BlindRestorer):
    """:class:`~wilddeblur.evaluation.baselines.kernel_ops.BlindRestorer` by :func:`l0_deblur`."""

    deblur = staticmethod(l0_deblur)
    params_class, label = L0Params, "L0"
