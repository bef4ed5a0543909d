"""Deblurring images of any size: whole, or in overlapping tiles blended together.

Tiles keep memory bounded (a 4K frame on a 16 GB GPU, or on a CPU). Each tile is run with a
margin of context around the part that is kept, so that, with a margin at least DeblurNet's
receptive radius, tiled and whole-image outputs agree. Tiles start on multiples of 4 so that
the network's 1/4-scale grid is the same in every tile; neighbouring tiles overlap by
``blend`` pixels, cross-faded linearly to hide any residual seam.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from wilddeblur.models.deblurnet_arch import pad_to_multiple


class Deblurrer(Protocol):
    """What deblurs here: a network of the registry, or an exported one run by ONNX Runtime
    (:class:`wilddeblur.deploy.onnx_runtime.OnnxNetwork`)."""

    def deblur(self, x: Tensor) -> Tensor:
        """The full-scale output for ``x`` (B, 3, H, W) of any size."""
        ...


def _starts(length: int, tile: int, step: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, step)) + [length - tile]
    return sorted({s - s % 4 for s in starts})


def _ramp(n: int, blend: int, at_start: bool, at_end: bool) -> Tensor:
    """1-D weights: linear ramps of ``blend`` pixels on the inner sides of a tile."""
    w = torch.ones(n)
    ramp = (torch.arange(blend, dtype=torch.float32) + 0.5) / blend
    if not at_start and blend:
        w[:blend] = ramp
    if not at_end and blend:
        w[-blend:] = ramp.flip(0)
    return w


@torch.inference_mode()
def deblur_tiled(model: Deblurrer, x: Tensor, tile: int = 512, margin: int = 96,
                 blend: int = 32) -> Tensor:
    """The network's full-scale output for ``x`` (B, 3, H, W) of any size, ``tile``×``tile`` at
    a time. NAFNet's channel attention averages over the whole input, so its tiled output only
    approximates the whole-image one, however wide the margin.

    ``tile`` is the kept part of each tile (a multiple of 4); ``margin`` (a multiple of 4) is
    the context added around it; ``blend`` the cross-fade between neighbours.
    """
    if tile % 4 or margin % 4 or blend > tile // 2:
        raise ValueError("tile and margin must be multiples of 4, blend at most tile/2")
    if x.shape[-2] <= tile and x.shape[-1] <= tile:  # the network pads as it was trained to
        return model.deblur(x)
    padded, (h, w) = pad_to_multiple(x, 4)
    H, W = padded.shape[-2:]
    step = tile - blend
    out = torch.zeros_like(padded)
    weight = torch.zeros((1, 1, H, W), dtype=padded.dtype, device=padded.device)
    ys, xs = _starts(H, tile, step), _starts(W, tile, step)
    for y in ys:
        for x0 in xs:
            th, tw = min(tile, H - y), min(tile, W - x0)
            y0, y1 = max(0, y - margin), min(H, y + th + margin)
            x1a, x1b = max(0, x0 - margin), min(W, x0 + tw + margin)
            crop = padded[..., y0:y1, x1a:x1b]
            res = model.deblur(crop)[..., y - y0 : y - y0 + th, x0 - x1a : x0 - x1a + tw]
            wy = _ramp(th, blend, y == ys[0], y == ys[-1]).to(res)
            wx = _ramp(tw, blend, x0 == xs[0], x0 == xs[-1]).to(res)
            wt = (wy[:, None] * wx[None, :])[None, None]
            out[..., y : y + th, x0 : x0 + tw] += res * wt
            weight[..., y : y + th, x0 : x0 + tw] += wt
    return (out / weight)[..., :h, :w]


def deblur_array(model: Deblurrer, image: np.ndarray, device: torch.device,
                 tile: int | None = None) -> np.ndarray:
    """One H×W×3 uint8 image → float H×W×3 in [0, 1] scale (not clamped)."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float().div(255)
    x = x.to(device)
    if tile:
        y = deblur_tiled(model, x, tile=tile, blend=min(32, tile // 4))
    else:
        with torch.inference_mode():
            y = model.deblur(x)
    return y[0].permute(1, 2, 0).float().cpu().numpy()

