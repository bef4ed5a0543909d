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
    mx = flow[..., 0] + np.arange(w, dtype=np.float32)
    my = flow[..., 1] + np.arange(h, dtype=np.float32)[:, None]
    warped = cv2.remap(frame2, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    valid = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    return warped, valid


def matching_error(frame1: np.ndarray, frame2: np.ndarray, flow: np.ndarray) -> float:
    """Frame-matching error: RMS grayscale difference, in [0, 1] units, between frame1 and
    frame2 warped back by the flow, over pixels whose flow stays inside the frame.

    The paper (§2 step 4) names "the L2 norm in grayscale"; we divide by √(valid pixels) so the
    value does not depend on the frame size.
    """
    warped, valid = warp_back(gray(frame2), flow)
    diff = cv2.absdiff(gray(frame1), warped)[valid].astype(np.float32) / 255
    return float(np.sqrt(np.mean(diff * diff))) if diff.size else float("inf")


def pair_statistics(frame1: np.ndarray, frame2: np.ndarray, flow: np.ndarray) -> dict[str, float]:
    """Magnitude statistics (mean, p95, p99, max; pixels) and the matching error of one pair."""
    mag = cv2.magnitude(flow[..., 0], flow[..., 1]).ravel()
    p95, p99 = np.percentile(mag, [95, 99])
    return {
        "mean": float(mag.mean()),
        "p95": float(p95),
        "p99": float(p99),
        "max": float(mag.max()),
        "match_err": matching_error(frame1, frame2, flow),
    }


def to_8bit(frames: np.ndarray) -> np.ndarray:
    """16-bit RGB (0..65535) to 8-bit, rounded."""
    return ((frames.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


class PairStatistics:
    """Per-pair statistics of frames fed in order, in chunks of any size (so the flow can be
    computed while a video is still being decoded)."""

    def __init__(self, backend: FlowBackend) -> None:
        self.backend = backend
        self.prev: np.ndarray | None = None
        self.rows: list[dict] = []

    def add(self, frames: np.ndarray) -> None:
        if frames.dtype == np.uint16:  # flow on 8-bit images; the store keeps 16 bits
            frames = to_8bit(frames)
        for frame in frames:
            if self.prev is not None:
                stats = pair_statistics(self.prev, frame, self.backend(self.prev, frame))
                self.rows.append({"pair": len(self.rows), **stats})
            self.prev = frame

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["pair", "mean", "p95", "p99", "max", "match_err"])


def flow_table(store: FrameStore, backend: FlowBackend, desc: str = "flow",
               chunk: int = 64) -> pd.DataFrame:
    """Statistics for every consecutive pair (i, i+1) of a frame store, one row per pair."""
    acc = PairStatistics(backend)
    with tqdm(total=len(store) - 1, desc=desc, unit="pair", mininterval=2) as bar:
        for start in range(0, len(store), chunk):
            frames = store[start : start + chunk]
            acc.add(frames)
            bar.update(len(frames) - (start == 0))
    return acc.table()
