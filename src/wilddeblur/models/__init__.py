"""Networks of the paper (§3, Table 1)."""

from wilddeblur.models.deblurnet_arch import DeblurNet, downsample

__all__ = ["DeblurNet", "downsample"]
