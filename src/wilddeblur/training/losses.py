"""The multi-scale loss of §3, Eq. (1): L = L1 + L2 + L3, a squared L2 error at each scale."""

from __future__ import annotations

from torch import Tensor

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
