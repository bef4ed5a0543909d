"""FlowNetS and FlowNetC (Dosovitskiy et al. 2015, "FlowNet: Learning Optical Flow with
Convolutional Networks") with the module names of the public PyTorch checkpoints.

Two layouts, same graph:

- ``clementpinard`` (ClementPinard/FlowNetPytorch: ``flownets``, ``flownets_bn``, ``flownetc``,
  ``flownetc_bn``): no biases outside the encoder convs; optional BatchNorm.
- ``nvidia`` (NVIDIA/flownet2-pytorch: ``FlowNet2S``, ``FlowNet2C``): no BatchNorm; biases on
  ``predict_flow*`` and ``deconv*``, and on ``upsampled_flow*`` in FlowNet2-C only.

The networks take the already normalised 6-channel pair ``cat(img1, img2)`` and return the
flow at 1/4 resolution (eval) or the five scales ``flow2..flow6`` (train), unscaled (divide by
nothing, multiply by ``div_flow`` to get pixels). Preprocessing lives in ``flownet.py``.
Decoder maps are cropped to the skip connection's size, so any H, W runs.
"""

from __future__ import annotations

import torch
from torch import nn

from wilddeblur.models.correlation import correlation_layer

LAYOUTS = ("clementpinard", "nvidia")
DEFAULT_DIV_FLOW = 20.0


def _conv(batch_norm: bool, cin: int, cout: int, k: int = 3, stride: int = 1) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.1, inplace=True))
    return nn.Sequential(*layers)


def _deconv(cin: int, cout: int, bias: bool) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=bias),
                         nn.LeakyReLU(0.1, inplace=True))


def _crop_like(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    return x[:, :, :ref.shape[2], :ref.shape[3]]


class FlowNet(nn.Module):
    """FlowNetS (``correlation=False``) or FlowNetC (``correlation=True``) in one layout.

    Attributes used by the loader and ``estimate_flow``: ``arch`` (checkpoint name),
    ``layout``, ``div_flow`` (output × div_flow = pixels of the input resolution).
    """

    arch: str

    def __init__(self, correlation: bool, batch_norm: bool = False,
                 layout: str = "clementpinard", div_flow: float = DEFAULT_DIV_FLOW) -> None:
        super().__init__()
        if layout not in LAYOUTS:
            raise ValueError(f"unknown FlowNet layout {layout!r}; one of {LAYOUTS}")
        if layout == "nvidia" and batch_norm:
            raise ValueError("the NVIDIA FlowNet2-S/C layouts have no BatchNorm variant")
        nv = layout == "nvidia"
        self.correlation = correlation
        self.batch_norm = batch_norm
        self.layout = layout
        self.div_flow = float(div_flow)
        bn = batch_norm

        self.conv1 = _conv(bn, 3 if correlation else 6, 64, 7, 2)
        self.conv2 = _conv(bn, 64, 128, 5, 2)
        self.conv3 = _conv(bn, 128, 256, 5, 2)
        if correlation:
            self.conv_redir = _conv(bn, 256, 32, 1, 1)
            self.conv3_1 = _conv(bn, 32 + 441, 256)
        else:
            self.conv3_1 = _conv(bn, 256, 256)
        self.conv4 = _conv(bn, 256, 512, stride=2)
        self.conv4_1 = _conv(bn, 512, 512)
        self.conv5 = _conv(bn, 512, 512, stride=2)
        self.conv5_1 = _conv(bn, 512, 512)
        self.conv6 = _conv(bn, 512, 1024, stride=2)
        self.conv6_1 = _conv(bn, 1024, 1024)

        self.deconv5 = _deconv(1024, 512, nv)
        self.deconv4 = _deconv(1026, 256, nv)
        self.deconv3 = _deconv(770, 128, nv)
        self.deconv2 = _deconv(386, 64, nv)

        self.predict_flow6 = nn.Conv2d(1024, 2, 3, 1, 1, bias=nv)
        self.predict_flow5 = nn.Conv2d(1026, 2, 3, 1, 1, bias=nv)
        self.predict_flow4 = nn.Conv2d(770, 2, 3, 1, 1, bias=nv)
        self.predict_flow3 = nn.Conv2d(386, 2, 3, 1, 1, bias=nv)
        self.predict_flow2 = nn.Conv2d(194, 2, 3, 1, 1, bias=nv)

        up_bias = nv and correlation
        self.upsampled_flow6_to_5 = nn.ConvTranspose2d(2, 2, 4, 2, 1, bias=up_bias)
        self.upsampled_flow5_to_4 = nn.ConvTranspose2d(2, 2, 4, 2, 1, bias=up_bias)
        self.upsampled_flow4_to_3 = nn.ConvTranspose2d(2, 2, 4, 2, 1, bias=up_bias)
        self.upsampled_flow3_to_2 = nn.ConvTranspose2d(2, 2, 4, 2, 1, bias=up_bias)

        for m in self.modules():  # ClementPinard's initialisation
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                nn.init.kaiming_normal_(m.weight, 0.1)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """``x``: (B, 6, H, W) normalised ``cat(img1, img2)``. Eval: flow2 (B, 2, ⌈H/4⌉, ⌈W/4⌉);
        train: (flow2, flow3, flow4, flow5, flow6)."""
        if self.correlation:
            a = self.conv2(self.conv1(x[:, :3]))
            b = self.conv2(self.conv1(x[:, 3:]))
            out_conv2 = a
            a3, b3 = self.conv3(a), self.conv3(b)
            corr = correlation_layer(a3, b3)
            out_conv3 = self.conv3_1(torch.cat((self.conv_redir(a3), corr), 1))
        else:
            out_conv2 = self.conv2(self.conv1(x))
            out_conv3 = self.conv3_1(self.conv3(out_conv2))
        out_conv4 = self.conv4_1(self.conv4(out_conv3))
        out_conv5 = self.conv5_1(self.conv5(out_conv4))
        out_conv6 = self.conv6_1(self.conv6(out_conv5))

        flow6 = self.predict_flow6(out_conv6)
        concat5 = torch.cat((out_conv5,
                             _crop_like(self.deconv5(out_conv6), out_conv5),
                             _crop_like(self.upsampled_flow6_to_5(flow6), out_conv5)), 1)
        flow5 = self.predict_flow5(concat5)
        concat4 = torch.cat((out_conv4,
                             _crop_like(self.deconv4(concat5), out_conv4),
                             _crop_like(self.upsampled_flow5_to_4(flow5), out_conv4)), 1)
        flow4 = self.predict_flow4(concat4)
        concat3 = torch.cat((out_conv3,
                             _crop_like(self.deconv3(concat4), out_conv3),
                             _crop_like(self.upsampled_flow4_to_3(flow4), out_conv3)), 1)
        flow3 = self.predict_flow3(concat3)
        concat2 = torch.cat((out_conv2,
                             _crop_like(self.deconv2(concat3), out_conv2),
                             _crop_like(self.upsampled_flow3_to_2(flow3), out_conv2)), 1)
        flow2 = self.predict_flow2(concat2)
        if self.training:
            return flow2, flow3, flow4, flow5, flow6
        return flow2


class FlowNetS(FlowNet):
    """FlowNetS, ClementPinard layout (``flownets`` / ``flownets_bn``). Default: no BatchNorm,
    as in the public ``flownets_EPE1.951`` weights."""

    def __init__(self, batch_norm: bool = False, div_flow: float = DEFAULT_DIV_FLOW) -> None:
        super().__init__(False, batch_norm, "clementpinard", div_flow)
        self.arch = "flownets_bn" if batch_norm else "flownets"


class FlowNetC(FlowNet):
    """FlowNetC, ClementPinard layout (``flownetc`` / ``flownetc_bn``). Default: no BatchNorm,
    as in the public ``flownetc_EPE1.766`` weights."""

    def __init__(self, batch_norm: bool = False, div_flow: float = DEFAULT_DIV_FLOW) -> None:
        super().__init__(True, batch_norm, "clementpinard", div_flow)
        self.arch = "flownetc_bn" if batch_norm else "flownetc"


class FlowNet2S(FlowNet):
    """FlowNet2-S, NVIDIA layout (FlowNetS of the FlowNet 2.0 release)."""

    def __init__(self, div_flow: float = DEFAULT_DIV_FLOW) -> None:
        super().__init__(False, False, "nvidia", div_flow)
        self.arch = "FlowNet2S"


class FlowNet2C(FlowNet):
    """FlowNet2-C, NVIDIA layout (FlowNetC of the FlowNet 2.0 release)."""

    def __init__(self, div_flow: float = DEFAULT_DIV_FLOW) -> None:
        super().__init__(True, False, "nvidia", div_flow)
        self.arch = "FlowNet2C"


ARCHS: dict[str, tuple[type[FlowNet], dict]] = {
    "flownets": (FlowNetS, {"batch_norm": False}),
    "flownets_bn": (FlowNetS, {"batch_norm": True}),
    "flownetc": (FlowNetC, {"batch_norm": False}),
    "flownetc_bn": (FlowNetC, {"batch_norm": True}),
    "FlowNet2S": (FlowNet2S, {}),
    "FlowNet2C": (FlowNet2C, {}),
}

_ALIASES = {name.lower().replace("-", "").replace("_", ""): name for name in ARCHS}


def canonical_arch(name: str) -> str | None:
    """The ``ARCHS`` key for an arch name (case, ``-`` and ``_`` ignored), or None."""
    return _ALIASES.get(str(name).lower().replace("-", "").replace("_", ""))


def build_flownet(arch: str, div_flow: float = DEFAULT_DIV_FLOW) -> FlowNet:
    """A freshly initialised network for an ``ARCHS`` name (aliases like ``flownet2-c`` too)."""
    key = canonical_arch(arch)
    if key is None:
        raise ValueError(f"unknown FlowNet arch {arch!r}; one of {sorted(ARCHS)}")
    cls, kwargs = ARCHS[key]
    return cls(div_flow=div_flow, **kwargs)
