"""Per-pair flow statistics (§2 step 3) and the frame-matching error (§2 step 4)."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from wilddeblur.flow.backends import FlowBackend, gray
from wilddeblur.framestore import FrameStore

STATISTICS = ("max", "p99", "p95", "mean")


def warp_back(frame2: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``frame2`` at x + flow(x): frame2 warped onto frame1, and where that is defined."""
    h, w = flow.shape[:2]
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mx, my = xx + flow[..., 0], yy + flow[..., 1]
    warped = cv2.remap(frame2, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    valid = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    return warped, valid


def matching_error(frame1: np.ndarray, frame2: np.ndarray, flow: np.ndarray) -> float:
    """Frame-matching error: RMS grayscale difference, in [0, 1] units, between frame1 and
    frame2 warped back by the flow, over pixels whose flow stays inside the frame.

    The paper (§2 step 4) names "the L2 norm in grayscale"; we divide by √(valid pixels) so the
    value does not depend on the frame size.
    """
    warped, valid = warp_back(gray(frame2).astype(np.float32) / 255, flow)
    diff = (gray(frame1).astype(np.float32) / 255 - warped)[valid]
    return float(np.sqrt(np.mean(diff**2))) if diff.size else float("inf")


def pair_statistics(frame1: np.ndarray, frame2: np.ndarray, flow: np.ndarray) -> dict[str, float]:
    """Magnitude statistics (mean, p95, p99, max; pixels) and the matching error of one pair."""
    mag = np.hypot(flow[..., 0], flow[..., 1])
    p95, p99 = np.percentile(mag, [95, 99])
    return {
        "mean": float(mag.mean()),
        "p95": float(p95),
        "p99": float(p99),
        "max": float(mag.max()),
        "match_err": matching_error(frame1, frame2, flow),
    }


def flow_table(store: FrameStore, backend: FlowBackend, desc: str = "flow") -> pd.DataFrame:
    """Statistics for every consecutive pair (i, i+1) of a frame store, one row per pair."""
    rows = []
    prev = store[0]
    for i in tqdm(range(1, len(store)), desc=desc, unit="pair", mininterval=2):
        cur = store[i]
        rows.append({"pair": i - 1, **pair_statistics(prev, cur, backend(prev, cur))})
        prev = cur
    return pd.DataFrame(rows)
