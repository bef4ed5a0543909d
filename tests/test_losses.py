"""The three-scale loss of §3 on hand-made tensors."""

import pytest
import torch

from wilddeblur.losses import multiscale_loss


def test_zero_when_every_scale_matches():
    f = torch.rand(1, 3, 8, 8)
    outputs = (torch.nn.functional.avg_pool2d(f, 4), torch.nn.functional.avg_pool2d(f, 2), f)
    assert multiscale_loss(outputs, f).item() == 0.0


def test_sum_of_mean_squared_errors_over_scales():
    f = torch.zeros(1, 3, 8, 8)
    s1 = torch.full((1, 3, 2, 2), 0.5)  # error² 0.25 everywhere
    s2 = torch.full((1, 3, 4, 4), 0.1)  # 0.01
    s3 = torch.full((1, 3, 8, 8), -0.2)  # 0.04
    assert multiscale_loss((s1, s2, s3), f).item() == pytest.approx(0.25 + 0.01 + 0.04)


def test_targets_are_area_downsampled():
    f = torch.zeros(1, 1, 4, 4)
    f[..., :2, :2] = 1.0  # the top-left quarter is white
    s1 = torch.full((1, 1, 1, 1), 0.25)  # D¼(f) = 0.25
    s2 = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])  # D½(f)
    assert multiscale_loss((s1, s2, f.clone()), f).item() == pytest.approx(0.0)
