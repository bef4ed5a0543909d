"""Image quality metrics, with the field's conventions stated (as in BasicSR's psnr_ssim.py).

* RGB, both images uint8 (the network output is clamped to [0, 1], scaled by 255 and rounded
  half up by :mod:`wilddeblur.video.eightbit` before it is compared), no border crop, no
  Y-channel conversion.
* PSNR = 10·log10(255² / MSE) per image; a dataset's figure is the mean of per-image PSNRs.
* SSIM as scikit-image's ``structural_similarity`` with Gaussian weights (σ 1.5), population
  covariance, data range 255, over the three channels (Wang et al. 2004's settings).
* Residual L1 (Fig. 9): mean over pixels and channels of |output − input|, the output as the
  network gives it (float, [0, 1] scale, not clamped), the input uint8 scaled to [0, 1].
* Shift-tolerant PSNR, an extra column: the best PSNR over integer shifts of the output by up to
  ``max_shift`` pixels, on the central region that every shift covers (the spirit of Köhler et
  al. 2012's protocol, which the paper mentions; integer shifts only).
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

from wilddeblur.video.eightbit import to_uint8 as to_uint8  # the outputs' 8-bit convention


def psnr(output: np.ndarray, target: np.ndarray, data_range: float = 255.0) -> float:
    """PSNR in dB between two images of the same shape (inf when identical)."""
    mse = np.mean((output.astype(np.float64) - target.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(data_range**2 / mse))


def ssim(output: np.ndarray, target: np.ndarray) -> float:
    """SSIM of two H×W×3 uint8 images (Gaussian weights, skimage)."""
    return float(structural_similarity(output, target, data_range=255, channel_axis=2,
                                       gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))


def psnr_shift_tolerant(output: np.ndarray, target: np.ndarray, max_shift: int = 3) -> float:
    """Best PSNR over integer shifts of ``output`` within ±``max_shift`` pixels."""
    k = max_shift
    h, w = target.shape[:2]
    ref = target[k : h - k, k : w - k]
    return max(psnr(output[k + dy : h - k + dy, k + dx : w - k + dx], ref)
               for dy in range(-k, k + 1) for dx in range(-k, k + 1))


def residual_l1(output: np.ndarray, blurry: np.ndarray) -> float:
    """Mean |output − input| over pixels and channels; output float in [0, 1], input uint8."""
    return float(np.abs(output.astype(np.float64) - blurry.astype(np.float64) / 255).mean())
