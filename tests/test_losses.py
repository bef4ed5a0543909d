"""The three-scale loss of §3, Eq. (1), on hand-made tensors (expected values by hand)."""

import pytest
import torch

from wilddeblur.training.losses import multiscale_loss


def test_zero_when_every_scale_matches():
    f = torch.rand(1, 3, 8, 8)
    outputs = (torch.nn.functional.avg_pool2d(f, 4), torch.nn.functional.avg_pool2d(f, 2), f)
    assert multiscale_loss(outputs, f).item() == 0.0


def test_a_pixel_weighs_the_same_at_every_scale():
    """Eq. (1) sums squared norms: an error e at every pixel of the ¼ scale (2×2 = 4 pixels per
    channel) adds 4·3·e², the same error at full scale (8×8) adds 64·3·e²; both are divided by
    the 192 full-scale elements, so the ¼-scale error counts 1/16 of the full-scale one."""
    f = torch.zeros(1, 3, 8, 8)
    exact = (torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 8, 8))
    e = 0.3
    only_quarter = (exact[0] + e, exact[1], exact[2])
    only_half = (exact[0], exact[1] + e, exact[2])
    only_full = (exact[0], exact[1], exact[2] + e)
    assert multiscale_loss(only_full, f).item() == pytest.approx(e * e)
    assert multiscale_loss(only_half, f).item() == pytest.approx(e * e / 4)
    assert multiscale_loss(only_quarter, f).item() == pytest.approx(e * e / 16)


def test_sum_of_squared_errors_over_scales_divided_by_full_scale_size():
    f = torch.zeros(2, 3, 8, 8)  # 384 full-scale elements
    s1 = torch.full((2, 3, 2, 2), 0.5)  # 24 elements, error² 0.25: 6.0
    s2 = torch.full((2, 3, 4, 4), 0.1)  # 96 elements, 0.01: 0.96
    s3 = torch.full((2, 3, 8, 8), -0.2)  # 384 elements, 0.04: 15.36
    expected = (6.0 + 0.96 + 15.36) / 384
    assert multiscale_loss((s1, s2, s3), f).item() == pytest.approx(expected)


def test_targets_are_area_downsampled():
    f = torch.zeros(1, 1, 4, 4)
    f[..., :2, :2] = 1.0  # the top-left quarter is white
    s1 = torch.full((1, 1, 1, 1), 0.25)  # D¼(f) = 0.25
    s2 = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])  # D½(f)
    assert multiscale_loss((s1, s2, f.clone()), f).item() == pytest.approx(0.0)
