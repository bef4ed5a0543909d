"""NAFNet: "Simple Baselines for Image Restoration", L. Chen, X. Chu, X. Zhang, J. Sun (ECCV 2022).

A U-Net of NAFBlocks with a global residual (output = input + correction). A NAFBlock is
LayerNorm → 1×1 conv (×2 channels) → 3×3 depth-wise conv → SimpleGate (the two channel halves
multiplied) → simplified channel attention (global average → 1×1 conv, multiplied in) → 1×1
conv, added back scaled by the learnt per-channel ``beta``; then LayerNorm → 1×1 conv (×2) →
SimpleGate → 1×1 conv, added back scaled by ``gamma``. No activation function anywhere.

Each encoder stage halves the resolution with a 2×2 stride-2 conv and doubles the channels; each
decoder stage upsamples with a 1×1 conv and a pixel shuffle and adds the encoder's skip. The
published GoPro models (33.69 dB at width 64) are ``width`` 32 or 64, ``enc_blocks`` (1, 1, 1,
28), ``middle_blocks`` 1, ``dec_blocks`` (1, 1, 1, 1): the defaults here, at width 32.

Module and parameter names are those of the authors' code, so a state dict saved by it loads
here as it is (:mod:`wilddeblur.models.nafnet_checkpoint`). Inputs are RGB in [0, 1]; H and W
are zero-padded on the bottom and right to a multiple of 2^(encoder stages), and the output is
cropped back, as the authors do. Dropout (0 in every published configuration) is left out.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class LayerNorm2d(nn.Module):
    """Layer normalisation over the channels of each pixel, with a per-channel affine map."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        # (x - mean) / sqrt(var + eps) over C, by the fused kernel on an N, H, W, C view (a
        # copy-free view for a channels-last tensor); the channel count is the weight's, a
        # constant when the network is traced for ONNX export
        y = F.layer_norm(x.permute(0, 2, 3, 1), self.weight.shape, self.weight, self.bias,
                         self.eps)
        return y.permute(0, 3, 1, 2)


def simple_gate(x: Tensor) -> Tensor:
    """SimpleGate: the first half of the channels times the second half."""
    a, b = x.chunk(2, dim=1)
    return a * b


class NAFBlock(nn.Module):
    """Nonlinear-activation-free block (Fig. 3c of the NAFNet paper), on ``c`` channels."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.norm1 = LayerNorm2d(c)
        self.conv1 = nn.Conv2d(c, 2 * c, 1)
        self.conv2 = nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2 * c)
        self.sca = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, c, 1))
        self.conv3 = nn.Conv2d(c, c, 1)
        self.norm2 = LayerNorm2d(c)
        self.conv4 = nn.Conv2d(c, 2 * c, 1)
        self.conv5 = nn.Conv2d(c, c, 1)
        self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, inp: Tensor) -> Tensor:
        x = simple_gate(self.conv2(self.conv1(self.norm1(inp))))
        y = inp + self.conv3(x * self.sca(x)) * self.beta
        x = self.conv5(simple_gate(self.conv4(self.norm2(y))))
        return y + x * self.gamma


def blocks(c: int, n: int) -> nn.Sequential:
    return nn.Sequential(*(NAFBlock(c) for _ in range(n)))


class NAFNet(nn.Module):
    """NAFNet; ``forward(x)`` returns the restored image, of the input's size."""

    def __init__(self, width: int = 32, enc_blocks: Sequence[int] = (1, 1, 1, 28),
                 middle_blocks: int = 1, dec_blocks: Sequence[int] = (1, 1, 1, 1)) -> None:
        super().__init__()
        if len(enc_blocks) != len(dec_blocks):
            raise ValueError(f"NAFNet needs as many decoder stages as encoder stages, got "
                             f"enc_blocks={list(enc_blocks)}, dec_blocks={list(dec_blocks)}")
        self.hparams = {"width": int(width), "enc_blocks": [int(n) for n in enc_blocks],
                        "middle_blocks": int(middle_blocks),
                        "dec_blocks": [int(n) for n in dec_blocks]}
        self.intro = nn.Conv2d(3, width, 3, padding=1)
        self.encoders, self.downs = nn.ModuleList(), nn.ModuleList()
        c = width
        for n in enc_blocks:
            self.encoders.append(blocks(c, n))
            self.downs.append(nn.Conv2d(c, 2 * c, 2, stride=2))
            c *= 2
        self.middle_blks = blocks(c, middle_blocks)
        self.ups, self.decoders = nn.ModuleList(), nn.ModuleList()
        for n in dec_blocks:
            self.ups.append(nn.Sequential(nn.Conv2d(c, 2 * c, 1, bias=False), nn.PixelShuffle(2)))
            c //= 2
            self.decoders.append(blocks(c, n))
        self.ending = nn.Conv2d(width, 3, 3, padding=1)
        self.size_multiple = 2 ** len(enc_blocks)

    def forward(self, inp: Tensor) -> Tensor:
        h, w = inp.shape[-2:]
        m = self.size_multiple
        x0 = F.pad(inp, (0, (-w) % m, 0, (-h) % m))
        x = self.intro(x0)
        skips = []
        for encoder, down in zip(self.encoders, self.downs, strict=True):
            x = encoder(x)
            skips.append(x)
            x = down(x)
        x = self.middle_blks(x)
        for decoder, up, skip in zip(self.decoders, self.ups, reversed(skips), strict=True):
            x = decoder(up(x) + skip)
        return (self.ending(x) + x0)[..., :h, :w]

    @torch.no_grad()
    def deblur(self, g: Tensor) -> Tensor:
        """The restored image for an input of any size."""
        return self(g)
