"""The patch CNN of Sun, Cao, Xu, Ponce, "Learning a Convolutional Neural Network for
Non-uniform Motion Blur Removal", CVPR 2015 (the paper's Table 2 row "Sun et al. 2015").

A 30×30 patch → a probability for each linear motion kernel of the discretisation
(:mod:`wilddeblur.evaluation.baselines.sun_motion`; theirs: 73 classes). Their network (Fig. 2):
conv 96 k7 · max-pool 2 · conv 256 k5 · max-pool 2 · fully connected 1024 · fully connected
(classes) · soft-max, ReLU after every hidden layer. Choices here:

* **Input**: one grey channel in [0, 1] (Sun: RGB). A motion blur is the same in every
  channel, so the grey patch carries the evidence; the blur synthesis is 3× cheaper.
* **Width** (not in the paper): ``width`` scales the hidden channels (96, 256, 1024 →
  round(c · width)); 1.0 is theirs. The CPU demo trains a narrower one.
* Valid convolutions, as in their layer sizes (30 → 24 → 12 → 8 → 4).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

PATCH = 30


class SunPatchNet(nn.Module):
    """Logits (N, classes) of the motion kernel of (N, 1, 30, 30) patches."""

    def __init__(self, classes: int = 73, width: float = 1.0) -> None:
        super().__init__()
        if classes < 2 or width <= 0:
            raise ValueError(f"need classes >= 2 and width > 0, got {classes}, {width}")
        c1, c2, fc = (max(1, round(c * width)) for c in (96, 256, 1024))
        self.classes, self.width = classes, width
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 7), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * 4 * 4, fc), nn.ReLU(inplace=True), nn.Linear(fc, classes))

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-2:] != (PATCH, PATCH):
            raise ValueError(f"patches must be {PATCH}x{PATCH}, got {tuple(x.shape[-2:])}")
        # zero mean, unit contrast: the class depends on the blur, not on brightness or contrast
        x = x - x.mean(dim=(-2, -1), keepdim=True)
        x = x / (x.std(dim=(-2, -1), keepdim=True) + 0.02)
        return self.classifier(self.features(x))

    @torch.no_grad()
    def probabilities(self, x: Tensor, batch: int = 4096) -> Tensor:
        """Soft-max probabilities, in batches."""
        return torch.cat([torch.softmax(self(x[i: i + batch]), dim=1)
                          for i in range(0, len(x), batch)])
