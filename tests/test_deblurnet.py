"""DeblurNet (Table 1): weight counts, scales, residual design."""

import pytest
import torch

from wilddeblur.models.deblurnet_arch import DeblurNet, conv_weight_count, downsample


def test_weight_counts_match_the_paper():
    net = DeblurNet()
    assert conv_weight_count(net.n1) == 14_762_784
    assert conv_weight_count(net.n2) == 4_953_600
    assert conv_weight_count(net.n3) == 4_953_600
    assert conv_weight_count(net) == 24_669_984


def test_layers_follow_table_1():
    net = DeblurNet()
    convs = [m for m in net.n1.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (96, 11, 2), (256, 7, 1), (384, 7, 1), (384, 7, 2), (256, 3, 1), (256, 3, 1), (3, 3, 1)]
    deconv = net.n2.out
    assert isinstance(deconv, torch.nn.ConvTranspose2d)
    assert (deconv.out_channels, deconv.kernel_size[0], deconv.stride[0]) == (3, 5, 2)
    # BN + ReLU after every conv except each sub-network's last layer
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules()) == 6 + 4 + 4


def test_three_outputs_at_quarter_half_full_scale():
    x = torch.rand(2, 3, 48, 64)
    s1, s2, s3 = DeblurNet().eval()(x)
    assert s1.shape == (2, 3, 12, 16)
    assert s2.shape == (2, 3, 24, 32)
    assert s3.shape == (2, 3, 48, 64)


def test_untrained_network_returns_its_downsampled_input():
    x = torch.rand(1, 3, 32, 40)
    s1, s2, s3 = DeblurNet().eval()(x)
    torch.testing.assert_close(s1, downsample(x, 4))
    torch.testing.assert_close(s2, downsample(x, 2))
    torch.testing.assert_close(s3, x)


def test_sizes_not_divisible_by_four_are_refused_by_forward_but_deblur_pads():
    net = DeblurNet().eval()
    x = torch.rand(1, 3, 30, 41)
    with pytest.raises(ValueError, match="divisible by 4"):
        net(x)
    assert net.deblur(x).shape == x.shape


def test_downsample_is_area_average():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    assert downsample(x, 4).item() == pytest.approx(7.5)
    assert downsample(x, 2).flatten().tolist() == [2.5, 4.5, 10.5, 12.5]
