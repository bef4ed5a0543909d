"""Training losses: the multi-scale loss of §3, Eq. (1) (L = L1 + L2 + L3, a squared L2 error at
each scale) for DeblurNet, and single-image losses for the other networks (L1, MSE, NAFNet's
PSNR loss)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from wilddeblur.errors import ConfigError
from wilddeblur.models.deblurnet_arch import downsample


def multiscale_loss(outputs: tuple[Tensor, Tensor, Tensor], sharp: Tensor) -> Tensor:
    """Eq. (1): ‖s1 − D¼(f)‖² + ‖s2 − D½(f)‖² + ‖s3 − f‖², divided by ``sharp.numel()``.

    ``outputs`` = (s1, s2, s3) at 1/4, 1/2 and full scale. The three sums of squared errors
    share one normaliser (the full-scale element count of the batch), so a pixel weighs the
    same at every scale, as in the paper's sum of squared norms; the division only keeps logged
    values comparable across batch and crop sizes (Adam is invariant to a constant factor).
    The logged value is therefore the full-scale MSE plus 1/4 of the ½-scale MSE plus 1/16 of
    the ¼-scale MSE.
    """
    s1, s2, s3 = outputs
    sse = (
        (s1 - downsample(sharp, 4)).square().sum()
        + (s2 - downsample(sharp, 2)).square().sum()
        + (s3 - sharp).square().sum()
    )
    return sse / sharp.numel()


def l1_loss(output: Tensor, sharp: Tensor) -> Tensor:
    """Mean absolute error."""
    return (output - sharp).abs().mean()


def mse_loss(output: Tensor, sharp: Tensor) -> Tensor:
    """Mean squared error."""
    return (output - sharp).square().mean()


def psnr_loss(output: Tensor, sharp: Tensor) -> Tensor:
    """NAFNet's published loss: minus the PSNR of each image (peak 1), averaged over the batch,
    i.e. 10/ln 10 · mean over images of ln(MSE + 1e-8)."""
    mse = (output - sharp).square().mean(dim=(1, 2, 3))
    return (10 / math.log(10)) * torch.log(mse + 1e-8).mean()


# name -> (function, takes DeblurNet's three scales)
LOSSES = {"eq1": (multiscale_loss, True), "l1": (l1_loss, False), "mse": (mse_loss, False),
          "psnr": (psnr_loss, False)}


def loss_function(name: str, arch: str) -> Callable[..., Tensor]:
    """The loss ``train.loss`` names for ``arch`` ('auto': the network's own, its registry
    entry's ``loss``). Eq. (1) needs a network's scales (DeblurNet's three); the others
    compare one output image."""
    from wilddeblur.models.registry import get

    entry = get(arch)
    name = entry.loss if name == "auto" else name
    if name not in LOSSES:
        raise ConfigError(f"train.loss: unknown loss {name!r} (known: auto, {', '.join(LOSSES)})")
    fn, multiscale = LOSSES[name]
    if multiscale != entry.multiscale:
        raise ConfigError(f"train.loss: {name!r} does not fit {arch} (DeblurNet trains with "
                          "Eq. (1), 'eq1'; single-output networks with l1, mse or psnr)")
    return fn
