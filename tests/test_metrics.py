"""Metric conventions: PSNR of known errors, SSIM bounds, 8-bit rounding."""

import numpy as np
import pytest
from skimage import data

from wilddeblur.evaluation.metrics import psnr, ssim, to_uint8
from wilddeblur.video.eightbit import round_codes


def test_psnr_of_a_known_error():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 48  # mse = 48² / 48 = 48
    assert psnr(a, b) == pytest.approx(10 * np.log10(255**2 / 48))
    assert psnr(a, a) == float("inf")


def test_ssim_is_one_for_identical_and_lower_for_noisy():
    img = data.astronaut()[:128, :128]
    noisy = np.clip(img + np.random.default_rng(0).normal(0, 20, img.shape), 0, 255)
    assert ssim(img, img) == pytest.approx(1.0)
    assert ssim(noisy.astype(np.uint8), img) < 0.9


def test_to_uint8_clamps_and_rounds_half_up():
    x = np.array([-0.1, 0.0, 0.5, 1.2, 2.5 / 255, 3.5 / 255])
    assert to_uint8(x).tolist() == [0, 0, 128, 255, 3, 4]  # half to even would give 2, 4


def test_round_codes_is_the_datasets_integer_mean():
    """Float codes round as the dataset's (sum + Ne // 2) // Ne does."""
    frames = np.random.default_rng(0).integers(0, 256, (7, 16, 16, 3), dtype=np.uint8)
    integer_mean = (frames.astype(np.uint32).sum(0) + 3) // 7
    assert np.array_equal(round_codes(frames.mean(0, dtype=np.float64)), integer_mean)
    assert round_codes(np.array([0.5, 1.5, -3.0, 300.0])).tolist() == [1, 2, 0, 255]
