"""The multi-scale loss of §3: L = L1 + L2 + L3, a squared L2 error at each scale."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from wilddeblur.models.deblurnet import downsample


def multiscale_loss(outputs: tuple[Tensor, Tensor, Tensor], sharp: Tensor) -> Tensor:
    """Sum over scales of the mean squared error against the area-downsampled sharp image.

    ``outputs`` = (s1, s2, s3) at 1/4, 1/2 and full scale. The paper writes ‖s − f‖²; we take
    the mean over pixels and batch rather than the sum, which only rescales the loss (Adam is
    invariant to it) and keeps logged values comparable across crop sizes.
    """
    s1, s2, s3 = outputs
    return (
        F.mse_loss(s1, downsample(sharp, 4))
        + F.mse_loss(s2, downsample(sharp, 2))
        + F.mse_loss(s3, sharp)
    )
