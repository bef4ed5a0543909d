"""Per-pair flow statistics (§2 step 3) and the frame-matching error (§2 step 4)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pandas as pd

from wilddeblur.flow.backends import FlowBackend, gray
from wilddeblur.video.io import fingerprint

STATISTICS = ("max", "region", "p99", "p95", "mean")
REGION_PX = 64  # default `flow.region_px`: an 8×8 object (benchmarks/selection_accuracy.py)
BORDER_PX = 16  # default `flow.border_px`: the frame margin the magnitude statistics ignore
MATCH_BLOCK_PX = 16  # side of the blocks of the local matching error


def warp_back(frame2: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``frame2`` at x + flow(x): frame2 warped onto frame1, and where that is defined."""
    h, w = flow.shape[:2]
    mx = flow[..., 0] + np.arange(w, dtype=np.float32)
    my = flow[..., 1] + np.arange(h, dtype=np.float32)[:, None]
    warped = cv2.remap(frame2, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    valid = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    return warped, valid


def matching_residual(frame1: np.ndarray, frame2: np.ndarray,
                      flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|frame1 − frame2 warped back by the flow| in grayscale, [0, 1] units, and where the flow
    stays inside the frame."""
    warped, valid = warp_back(gray(frame2), flow)
    return cv2.absdiff(gray(frame1), warped).astype(np.float32) / 255, valid


def matching_error(residual: np.ndarray, valid: np.ndarray) -> float:
    """Frame-matching error (§2 step 4): RMS of the residual over the valid pixels.

    The paper names "the L2 norm in grayscale"; we divide by √(valid pixels) so the value does
    not depend on the frame size.
    """
    diff = residual[valid]
    return float(np.sqrt(np.mean(diff * diff))) if diff.size else float("inf")


def local_matching_error(residual: np.ndarray, valid: np.ndarray,
                         block: int = MATCH_BLOCK_PX) -> float:
    """The largest RMS matching error over ``block``×``block`` tiles of valid pixels (tiles under
    half valid are skipped): a local variant of §2 step 4 that a small mismatched region cannot
    hide in a frame-wide average."""
    h, w = (s - s % block for s in residual.shape)
    if not h or not w:
        return matching_error(residual, valid)
    shape = (h // block, block, w // block, block)
    sse = (residual[:h, :w] ** 2 * valid[:h, :w]).reshape(shape).sum(axis=(1, 3))
    count = valid[:h, :w].reshape(shape).sum(axis=(1, 3))
    ok = count >= block * block / 2
    return float(np.sqrt((sse[ok] / count[ok]).max())) if ok.any() else float("inf")


def region_max(mag: np.ndarray, region_px: int) -> float:
    """The largest flow magnitude that at least ``region_px`` pixels reach or exceed: the
    ``region_px``-th largest value. Every region of ``region_px`` pixels or more that moves
    faster than a threshold pushes it over that threshold, wherever the region lies, while
    fewer isolated outlier pixels cannot (a maximum robust to outliers, not a fraction of the
    frame as a percentile is)."""
    k = min(region_px, mag.size)
    return float(np.partition(mag, mag.size - k)[mag.size - k])


def inner(flow: np.ndarray, border_px: int) -> np.ndarray:
    """The flow (or any H×W… array) without a margin of ``border_px`` pixels on every side
    (the whole array when the frame is too small to leave anything inside). At the frame's
    edges content enters and leaves, so the flow there is undefined, and DIS puts large errors
    on 8-pixel patches along the edges (benchmarks/flow_border.py measures what the margin
    changes)."""
    h, w = flow.shape[:2]
    if border_px <= 0 or min(h, w) <= 2 * border_px:
        return flow
    return flow[border_px : h - border_px, border_px : w - border_px]


def pair_statistics(frame1: np.ndarray, frame2: np.ndarray, flow: np.ndarray,
                    region_px: int = REGION_PX, border_px: int = BORDER_PX) -> dict[str, float]:
    """Magnitude statistics (mean, p95, p99, region, max; pixels) of the flow inside a
    ``border_px`` margin, the matching error and its local variant of one pair."""
    core = inner(flow, border_px)
    mag = cv2.magnitude(core[..., 0], core[..., 1]).ravel()
    residual, valid = matching_residual(frame1, frame2, flow)
    p95, p99 = np.percentile(mag, [95, 99])
    return {
        "mean": float(mag.mean()),
        "p95": float(p95),
        "p99": float(p99),
        "region": region_max(mag, region_px),
        "max": float(mag.max()),
        "match_err": matching_error(residual, valid),
        "match_err_local": local_matching_error(residual, valid),
    }


PAIR_COLUMNS = ["pair", *reversed(STATISTICS), "match_err", "match_err_local", "crc", "crc_next"]



def to_8bit(frames: np.ndarray) -> np.ndarray:
    """16-bit RGB (0..65535) to 8-bit, rounded."""
    return ((frames.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


class PairStatistics:
    """Per-pair statistics of frames fed in order, in chunks of any size (so the flow can be
    computed while a video is still being decoded). The rows are kept as float64 (80 bytes a
    pair, 70 MB for an hour at 240 fps); no frame is kept but the last one.

    With several ``backends`` (one engine per thread: OpenCV's DIS runs on one core), each
    chunk's pairs are split into that many runs of consecutive pairs computed in parallel; the
    rows are the same as with one backend, in the same order.
    """

    BLOCK = 4096  # rows per preallocated block

    def __init__(self, backend: FlowBackend | Sequence[FlowBackend], region_px: int = REGION_PX,
                 border_px: int = BORDER_PX) -> None:
        self.backends = list(backend) if isinstance(backend, Sequence) else [backend]
        self.region_px, self.border_px = region_px, border_px
        self.pool = ThreadPoolExecutor(len(self.backends)) if len(self.backends) > 1 else None
        self.prev: np.ndarray | None = None
        self.prev_crc = 0
        self.blocks: list[np.ndarray] = []
        self.pairs = 0

    def _append(self, values: list[float]) -> None:
        if self.pairs % self.BLOCK == 0:
            self.blocks.append(np.empty((self.BLOCK, len(values)), np.float64))
        self.blocks[-1][self.pairs % self.BLOCK] = values
        self.pairs += 1

    def _rows(self, backend: FlowBackend, frames: Sequence[np.ndarray]) -> list[list[float]]:
        """The statistics of the consecutive pairs of ``frames``, one list per pair."""
        rows = []
        for frame1, frame2 in itertools.pairwise(frames):
            stats = pair_statistics(frame1, frame2, backend(frame1, frame2), self.region_px,
                                    self.border_px)
            rows.append([stats[c] for c in PAIR_COLUMNS[1:-2]])
        return rows

    def add(self, frames: np.ndarray) -> None:
        if not len(frames):
            return
        crcs = [fingerprint(frame) for frame in frames]  # of the frames a shard will decode
        if frames.dtype == np.uint16:  # flow on 8-bit images; shards keep the 16 bits
            frames = to_8bit(frames)
        if self.prev is not None:
            frames, crcs = [self.prev, *frames], [self.prev_crc, *crcs]
        if len(frames) > 1:
            # runs of consecutive pairs that share their end frames: run k is pairs [a, b)
            cuts = np.linspace(0, len(frames) - 1, min(len(self.backends), len(frames) - 1) + 1)
            runs = [frames[a : b + 1] for a, b in itertools.pairwise(cuts.round().astype(int))]
            rows = (self.pool.map if self.pool else map)(self._rows, self.backends, runs)
            for k, row in enumerate(itertools.chain.from_iterable(rows)):
                self._append([self.pairs, *row, crcs[k], crcs[k + 1]])
        self.prev, self.prev_crc = frames[-1], crcs[-1]

    def __enter__(self) -> PairStatistics:
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the worker threads (the rows stay readable)."""
        if self.pool:
            self.pool.shutdown()

    def table(self) -> pd.DataFrame:
        values = (np.concatenate(self.blocks)[: self.pairs] if self.blocks
                  else np.empty((0, len(PAIR_COLUMNS))))
        table = pd.DataFrame(values, columns=PAIR_COLUMNS)
        for column in ("pair", "crc", "crc_next"):  # exact in float64: integers below 2**32
            table[column] = table[column].astype(np.int64)
        return table


def frame_fingerprints(table: pd.DataFrame) -> np.ndarray:
    """Every frame's :func:`fingerprint`, from a flow table (frame i: pair i's ``crc``, the
    last frame: the last pair's ``crc_next``)."""
    return np.r_[table["crc"].to_numpy(), table["crc_next"].to_numpy()[-1:]].astype(np.int64)


def flow_table(frames: np.ndarray, backend: FlowBackend, region_px: int = REGION_PX,
               border_px: int = BORDER_PX) -> pd.DataFrame:
    """Statistics for every consecutive pair (i, i+1) of an (N, H, W, 3) array, one row each."""
    with PairStatistics(backend, region_px, border_px) as acc:
        acc.add(frames)
    return acc.table()
