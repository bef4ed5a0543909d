"""FlowNetC's correlation layer (Dosovitskiy et al. 2015, §3) in plain PyTorch.

Same numbers as ClementPinard's ``spatial_correlation_sample`` and NVIDIA's CUDA ``Correlation``
with kernel 1, max displacement 20, stride 2: 21×21 = 441 channels, channel ``i * 21 + j``
holds ``mean_c f1[c, y, x] * f2[c, y + 2(i - 10), x + 2(j - 10)]`` (zero outside f2), i.e. ``i``
is the vertical shift. Works on any device and dtype. Shifts are taken a chunk at a time (one
by one on the CPU, where that is fastest; up to ``2**26`` product elements at once on a GPU,
to save kernel launches), so memory stays at the output plus one bounded temporary.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

GPU_CHUNK_ELEMENTS = 2**26


def correlate(f1: torch.Tensor, f2: torch.Tensor, max_displacement: int = 20, stride: int = 2,
              chunk_elements: int | None = None) -> torch.Tensor:
    """Correlation ``(B, n², H, W)`` of two ``(B, C, H, W)`` maps, n = 2·(d // stride) + 1,
    divided by C; no activation. ``chunk_elements`` bounds the temporary product (default:
    one shift at a time on the CPU, ``GPU_CHUNK_ELEMENTS`` elsewhere)."""
    if f1.shape != f2.shape or f1.dim() != 4:
        raise ValueError(f"correlate: need two equal (B, C, H, W) maps, got {tuple(f1.shape)} "
                         f"and {tuple(f2.shape)}")
    b, c, h, w = f1.shape
    d = max_displacement
    n = 2 * (d // stride) + 1
    off = d - (n // 2) * stride
    # (B, C, n, n, H, W) view, no copy: windows[:, :, i, j] = f2 shifted by the (i, j) offset
    windows = F.pad(f2, (d, d, d, d))[:, :, off:, off:].unfold(2, h, stride).unfold(3, w, stride)
    windows = windows[:, :, :n, :n]
    out = f1.new_empty(b, n, n, h, w)
    if chunk_elements is None:
        chunk_elements = 0 if f1.device.type == "cpu" else GPU_CHUNK_ELEMENTS
    per = max(1, chunk_elements // max(1, b * c * h * w))  # shifts per chunk
    a = f1[:, :, None, None]
    if per >= n:
        rows = min(n, per // n)
        for i in range(0, n, rows):
            torch.sum(a * windows[:, :, i:i + rows], dim=1, out=out[:, i:i + rows])
    else:
        for i in range(n):
            for j in range(0, n, per):
                out[:, i:i + 1, j:j + per] = (a * windows[:, :, i:i + 1, j:j + per]).sum(dim=1)
    return out.view(b, n * n, h, w).div_(c)


def correlation_layer(f1: torch.Tensor, f2: torch.Tensor) -> torch.Tensor:
    """FlowNetC's layer as the public models use it: ``correlate`` then LeakyReLU(0.1)."""
    return F.leaky_relu(correlate(f1, f2), 0.1)
