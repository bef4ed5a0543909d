"""An exponential moving average of a network's weights (BasicSR's ``ema_decay``).

After every optimizer step each parameter of the average moves towards the network's:
``e ← decay · e + (1 − decay) · p``, starting from the network's weights when training starts.
Buffers (batch-normalisation statistics, themselves running averages) are copied. The average
is what evaluation uses when ``train.ema`` is on; it is saved beside the weights.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    """The moving average of ``model``'s weights with ``decay`` in (0, 1)."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"train.ema must be in (0, 1) (or 0 = off), got {decay}")
        self.decay = float(decay)
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for e, p in zip(self.model.parameters(), model.parameters(), strict=True):
            e.mul_(self.decay).add_(p.detach(), alpha=1 - self.decay)
        for e, b in zip(self.model.buffers(), model.buffers(), strict=True):
            e.copy_(b)

    def state_dict(self) -> dict:
        return self.model.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state)
