"""DeblurNet, the three-scale residual network of Noroozi et al. (GCPR 2017), §3, Table 1.

Choices the paper leaves open, fixed here:

* **Padding**: "same" padding, ``k // 2``, so a stride-2 layer halves the size exactly.
  The transposed convolutions (k5, stride 2) use padding 2 and output padding 1, so they
  double it exactly. Inputs must have H and W divisible by 4; :func:`pad_to_multiple`
  pads (replicate) for any other size, and callers crop back.
* **Downsampling operator D**: area averaging (``avg_pool2d`` with kernel = stride = 2 or 4),
  the same filter that builds the dataset (§2, step 1).
* **Value range**: RGB in [0, 1], float32.
* **Initialisation**: PyTorch defaults, except that the last layer of each sub-network starts
  at zero, so an untrained network returns its (downsampled) input: every residual starts at
  "no correction" (the paper does not say how it initialised).
* **Width** (not in the paper): ``width`` scales every hidden layer's channels (96, 256, 384 →
  round(c · width)); 1.0 is Table 1. The CPU demo trains a narrower network (config
  ``model.width``), the same structure.

BatchNorm + ReLU follow every convolution except the last layer of each sub-network (whose
output is the residual). Conv/deconv weights: N1 14,762,784; N2 4,953,600; N3 4,953,600;
24,669,984 in all (biases and BN parameters not counted), as in the paper.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def conv_bn_relu(cin: int, cout: int, k: int, stride: int = 1) -> nn.Sequential:
    """Convolution, batch normalisation and ReLU ("same" padding)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def downsample(x: Tensor, factor: int) -> Tensor:
    """The operator D of the paper: area average over ``factor``×``factor`` blocks."""
    return x if factor == 1 else F.avg_pool2d(x, factor)


def pad_to_multiple(x: Tensor, multiple: int = 4) -> tuple[Tensor, tuple[int, int]]:
    """Replicate-pad H and W up to a multiple; return the padded tensor and the original size."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, (h, w)


def channels(c: int, width: float) -> int:
    """Table 1's channel count ``c`` scaled by ``width`` (at least 1)."""
    return max(1, round(c * width))


class N1(nn.Module):
    """Coarsest sub-network: full-scale input, residual at 1/4 scale (Table 1, N1)."""

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        c96, c256, c384 = (channels(c, width) for c in (96, 256, 384))
        self.body = nn.Sequential(
            conv_bn_relu(3, c96, 11, stride=2),
            conv_bn_relu(c96, c256, 7),
            conv_bn_relu(c256, c384, 7),
            conv_bn_relu(c384, c384, 7, stride=2),
            conv_bn_relu(c384, c256, 3),
            conv_bn_relu(c256, c256, 3),
        )
        self.out = nn.Conv2d(c256, 3, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.body(x))


class Refiner(nn.Module):
    """N2 and N3: four conv 256 k5 layers, then a k5 stride-2 deconvolution to 3 channels."""

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        c = channels(256, width)
        self.body = nn.Sequential(
            conv_bn_relu(3, c, 5),
            conv_bn_relu(c, c, 5),
            conv_bn_relu(c, c, 5),
            conv_bn_relu(c, c, 5),
        )
        self.out = nn.ConvTranspose2d(c, 3, 5, stride=2, padding=2, output_padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.body(x))


class DeblurNet(nn.Module):
    """DeblurNet (Table 1): ``forward(g)`` returns ``(s1, s2, s3)`` at 1/4, 1/2 and full scale.

    s1 = N1(g) + D¼(g);  s2 = N2(s1) + D½(g);  s3 = N3(s2) + g.
    """

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        self.hparams = {"width": float(width)}
        self.size_multiple = 4
        self.n1 = N1(width)
        self.n2 = Refiner(width)
        self.n3 = Refiner(width)
        for last in (self.n1.out, self.n2.out, self.n3.out):
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def forward(self, g: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        if g.shape[-1] % 4 or g.shape[-2] % 4:
            raise ValueError(f"DeblurNet needs H and W divisible by 4, got {tuple(g.shape[-2:])}")
        s1 = self.n1(g) + downsample(g, 4)
        s2 = self.n2(s1) + downsample(g, 2)
        s3 = self.n3(s2) + g
        return s1, s2, s3

    @torch.no_grad()
    def deblur(self, g: Tensor) -> Tensor:
        """Full-scale output for an input of any size (padded to a multiple of 4, then cropped)."""
        x, (h, w) = pad_to_multiple(g, 4)
        return self(x)[-1][..., :h, :w]


def conv_weight_count(model: nn.Module) -> int:
    """Number of convolution/deconvolution weights (no biases, no BN), as counted in the paper."""
    return sum(
        m.weight.numel() for m in model.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)
    )
