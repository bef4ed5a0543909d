"""§2 step 2: average Ne consecutive frames into a blurry image; the central frame is sharp."""

from __future__ import annotations

import numpy as np


def average_frames(frames: np.ndarray) -> np.ndarray:
    """The plain mean of Ne uint8 frames (the paper's averaging), rounded half up, exactly.

    Integer arithmetic: (sum + Ne // 2) // Ne, so rebuilding a sample reproduces its bytes.
    """
    ne = frames.shape[0]
    total = frames.astype(np.uint32).sum(axis=0)
    return ((total + ne // 2) // ne).astype(np.uint8)


def blurry_sharp_pair(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(blurry, sharp) from an odd number of consecutive frames: mean and central frame."""
    if frames.shape[0] % 2 == 0:
        raise ValueError(f"Ne must be odd, got {frames.shape[0]}")
    return average_frames(frames), frames[frames.shape[0] // 2].copy()
