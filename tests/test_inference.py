"""Inference of any size: tiled and whole-image outputs agree (docs/deblurring.md: to 1e-4 with
the default 96-pixel margins)."""

import numpy as np
import pytest
import torch

from wilddeblur.evaluation.inference import deblur_array, deblur_tiled
from wilddeblur.models.deblurnet_arch import DeblurNet


@pytest.fixture(scope="module")
def trained_like_net():
    """A DeblurNet with random (non-zero) residual layers and BN statistics, in eval mode."""
    torch.manual_seed(0)
    net = DeblurNet()
    for m in (net.n1.out, net.n2.out, net.n3.out):
        torch.nn.init.normal_(m.weight, std=0.1)  # residuals of about 0.1, as after training
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return net.eval()


def test_tiled_equals_whole_image_at_the_default_margin(trained_like_net):
    """Four 128-px tiles across 402 px: no tile sees the whole width, each sees the default
    96 px of context (the margin, not the tile size, sets the agreement)."""
    x = torch.rand(1, 3, 36, 402)
    whole = trained_like_net.deblur(x)
    tiled = deblur_tiled(trained_like_net, x, tile=128)  # default margin and blend
    assert tiled.shape == x.shape
    assert (tiled - whole).abs().max().item() < 1e-4  # docs/deblurring.md; a 32 px margin fails it


def test_small_margin_still_gives_a_close_seamless_result(trained_like_net):
    x = torch.rand(1, 3, 64, 200)
    whole = trained_like_net.deblur(x)
    tiled = deblur_tiled(trained_like_net, x, tile=64, margin=32, blend=16)
    assert (tiled - whole).abs().mean().item() < 0.01


def test_bad_tiling_is_refused(trained_like_net):
    with pytest.raises(ValueError, match="multiples of 4"):
        deblur_tiled(trained_like_net, torch.rand(1, 3, 8, 8), tile=30)


def test_numpy_entry_point_handles_odd_sizes(trained_like_net):
    img = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    out = deblur_array(trained_like_net, img, torch.device("cpu"))
    out_tiled = deblur_array(trained_like_net, img, torch.device("cpu"), tile=16)
    assert out.shape == (37, 53, 3)
    assert np.abs(out - out_tiled).max() < 0.05
