"""The one conversion to 8 bits, for every image the package writes or scores.

Rounding is half up, floor(x + 0.5), then clipping to [0, 255]: the dataset's integer mean
(sum + Ne // 2) // Ne rounds the same way, so a sample rebuilt from float frames keeps its bytes.
"""

from __future__ import annotations

import numpy as np


def round_codes(codes: np.ndarray) -> np.ndarray:
    """Float 8-bit codes (0..255 scale) as uint8: rounded half up, clipped to [0, 255]."""
    return np.clip(np.floor(np.asarray(codes, np.float64) + 0.5), 0, 255).astype(np.uint8)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A float image on the [0, 1] scale as uint8: clamped, scaled by 255, rounded half up."""
    return round_codes(np.clip(np.asarray(image, np.float64), 0, 1) * 255)
