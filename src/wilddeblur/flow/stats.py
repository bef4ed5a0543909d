"""Per-pair flow statistics (§2 step 3) and the frame-matching error (§2 step 4)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from queue import Queue
from typing import TypeVar

import cv2
import numpy as np
import pandas as pd

from wilddeblur.flow.backends import FlowBackend, gray
from wilddeblur.flow.skip import RULE_COLUMNS, SkipRule, fill_gap
from wilddeblur.video.io import fingerprint

STATISTICS = ("max", "region", "p99", "p95", "mean")
REGION_PX = 64  # default `flow.region_px`: an 8×8 object (benchmarks/selection_accuracy.py)
BORDER_PX = 16  # default `flow.border_px`: the frame margin the magnitude statistics ignore
EVIDENCE = 3.0  # default `flow.evidence`: levels a motion must change (selection_accuracy.py)
EVIDENCE_REACH = 2  # pixels around evidence of motion that it covers
MATCH_BLOCK_PX = 16  # side of the blocks of the local matching error
T = TypeVar("T")


def warp_back(frame2: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``frame2`` at x + flow(x): frame2 warped onto frame1, and where that is defined."""
    h, w = flow.shape[:2]
    mx = flow[..., 0] + np.arange(w, dtype=np.float32)
    my = flow[..., 1] + np.arange(h, dtype=np.float32)[:, None]
    warped = cv2.remap(frame2, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    valid = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    return warped, valid


def gray_residual(gray1: np.ndarray, gray2: np.ndarray,
                  flow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """|gray1 − gray2 warped back by the flow| in [0, 1] units, where the flow stays inside
    the frame, and gray2 warped back."""
    warped, valid = warp_back(gray2, flow)
    return cv2.absdiff(gray1, warped).astype(np.float32) / 255, valid, warped


def matching_residual(frame1: np.ndarray, frame2: np.ndarray,
                      flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|frame1 − frame2 warped back by the flow| in grayscale, [0, 1] units, and where the flow
    stays inside the frame."""
    return gray_residual(gray(frame1), gray(frame2), flow)[:2]


def motion_evidence(gray1: np.ndarray, gray2: np.ndarray, warped: np.ndarray,
                    flow: np.ndarray, levels: float) -> np.ndarray:
    """Where two grayscale frames show the flow's motion (issue 31): the change it predicts,
    |u·∇I| (the ghost an average along it would make; frame 1's gradient, 5×5 Sobel),
    reaches ``levels`` 8-bit levels, and frame 2 warped back by the flow (``warped``) is
    closer to frame 1 than frame 2 itself, by half that (the gain smoothed σ 1). A flow that
    fits a codec refresh or noise over a flat area predicts changes below the noise there; one
    that fits noise over texture does not bring the frames closer. The evidence reaches
    EVIDENCE_REACH pixels around: the flat inside of an object whose edges show its motion
    moves with them."""
    ghost = cv2.Sobel(gray1, cv2.CV_32F, 1, 0, ksize=5, scale=1 / 128)
    ghost *= flow[..., 0]
    ghost += cv2.Sobel(gray1, cv2.CV_32F, 0, 1, ksize=5, scale=1 / 128) * flow[..., 1]
    gain = cv2.subtract(cv2.absdiff(gray1, gray2), cv2.absdiff(gray1, warped), dtype=cv2.CV_32F)
    seen = (np.abs(ghost) >= levels) & (cv2.GaussianBlur(gain, (0, 0), 1.0) >= levels / 2)
    reach = np.ones((2 * EVIDENCE_REACH + 1,) * 2, np.uint8)
    return cv2.dilate(seen.view(np.uint8), reach).view(bool)


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
    frame as a percentile is). Magnitudes are never negative; only those above 0 are sorted
    (:func:`motion_evidence` leaves most of a frame at 0)."""
    k = min(region_px, mag.size)
    moving = mag[mag > 0]
    if moving.size < k:
        return 0.0
    return float(np.partition(moving, moving.size - k)[moving.size - k])


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
                    region_px: int = REGION_PX, border_px: int = BORDER_PX,
                    evidence: float = EVIDENCE) -> dict[str, float]:
    """Magnitude statistics (mean, p95, p99, region, max; pixels) of the flow inside a
    ``border_px`` margin, the matching error and its local variant of one pair. With
    ``evidence`` > 0, a pixel's motion counts only where :func:`motion_evidence` shows it at
    that many levels (elsewhere it counts as 0); 0 = every pixel's flow as it is."""
    core = inner(flow, border_px)
    mag = cv2.magnitude(core[..., 0], core[..., 1])
    gray1, gray2 = gray(frame1), gray(frame2)
    residual, valid, warped = gray_residual(gray1, gray2, flow)
    if evidence > 0:
        mag *= inner(motion_evidence(gray1, gray2, warped, flow, evidence), border_px)
    mag = mag.ravel()
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


STAT_COLUMNS = [*reversed(STATISTICS), "match_err", "match_err_local"]
PAIR_COLUMNS = ["pair", *STAT_COLUMNS, "crc", "crc_next", "skipped"]


def to_8bit(frames: np.ndarray) -> np.ndarray:
    """16-bit RGB (0..65535) to 8-bit, rounded."""
    return ((frames.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


class PairStatistics:
    """Per-pair statistics of frames fed in order, in chunks of any size (so the flow can be
    computed while a video is still being decoded). The rows are kept as float64 (88 bytes a
    pair, 76 MB for an hour at 240 fps); only the frames of pairs not yet settled are kept.

    With a ``skip`` rule, the pairs whose flow cannot change the selection are skipped
    (:mod:`wilddeblur.flow.skip`): every (2 × ``skip.guard`` + 1)-th pair is computed first,
    then what lies between. With several ``backends`` (one engine per thread: OpenCV's DIS runs
    on one core) those pairs, and then those gaps, are computed in parallel, each on a free
    engine; the rows are the same as with one backend, in the same order. :meth:`table` ends
    the stream.
    """

    BLOCK = 4096  # rows per preallocated block

    def __init__(self, backend: FlowBackend | Sequence[FlowBackend], region_px: int = REGION_PX,
                 border_px: int = BORDER_PX, skip: SkipRule | None = None,
                 evidence: float = EVIDENCE) -> None:
        self.backends = list(backend) if isinstance(backend, Sequence) else [backend]
        self.region_px, self.border_px, self.skip = region_px, border_px, skip
        self.evidence = evidence
        self.step = 2 * skip.guard + 1 if skip else 1  # lattice: every step-th pair
        self.pool = ThreadPoolExecutor(len(self.backends)) if len(self.backends) > 1 else None
        self.free: Queue[FlowBackend] = Queue()
        for engine in self.backends:
            self.free.put(engine)
        self.frames: list[np.ndarray] = []  # frames[i] is frame self.first + i
        self.crcs: list[int] = []
        self.first = 0
        self.stats: dict[int, dict[str, float]] = {}  # computed pairs not yet in a block
        self.next_lattice = 0
        self.blocks: list[np.ndarray] = []
        self.pairs = 0  # rows in the blocks: pairs [0, pairs) are settled
        self.ended = False

    def _append(self, values: list[float]) -> None:
        if self.pairs % self.BLOCK == 0:
            self.blocks.append(np.empty((self.BLOCK, len(values)), np.float64))
        self.blocks[-1][self.pairs % self.BLOCK] = values
        self.pairs += 1

    def _pair(self, x: int, backend: FlowBackend) -> dict[str, float]:
        """The statistics of pair x (frames x and x + 1)."""
        frame1, frame2 = self.frames[x - self.first], self.frames[x + 1 - self.first]
        return pair_statistics(frame1, frame2, backend(frame1, frame2), self.region_px,
                               self.border_px, self.evidence)

    def _gap(self, a: int, b: int, b_fails: bool,
             backend: FlowBackend) -> dict[int, dict[str, float]]:
        """The pairs strictly between a and b that the skip rule needs (gaps come with one)."""
        out: dict[int, dict[str, float]] = {}
        rule = self.skip
        assert rule is not None

        def fails(x: int) -> bool:
            out[x] = self._pair(x, backend)
            return rule.fails(out[x])

        fill_gap(a, b, rule.fails(self.stats[a]), b_fails, fails)
        return out

    def _fails(self, x: int) -> bool:
        return self.skip is not None and self.skip.fails(self.stats[x])

    def _run(self, jobs: list[Callable[[FlowBackend], T]]) -> list[T]:
        """Each job on a free backend, in parallel with several; the results in order."""
        if self.pool is None:
            return [job(self.backends[0]) for job in jobs]
        return list(self.pool.map(self._on_free_backend, jobs))

    def _on_free_backend(self, job: Callable[[FlowBackend], T]) -> T:
        backend = self.free.get()
        try:
            return job(backend)
        finally:
            self.free.put(backend)

    def _settle(self, gaps: list[tuple[int, int, bool]]) -> None:
        """Fill the gaps (a, b, whether b fails) in parallel, then move pairs up to the last b
        into the blocks (skipped ones as NaN) and drop the frames no longer needed."""
        for found in self._run([partial(self._gap, *gap) for gap in gaps if gap[1] - gap[0] > 1]):
            self.stats.update(found)
        for x in range(self.pairs, gaps[-1][1]):
            stats = self.stats.pop(x, None)
            values = [stats[c] for c in STAT_COLUMNS] if stats else [np.nan] * len(STAT_COLUMNS)
            self._append([x, *values, self.crcs[x - self.first], self.crcs[x + 1 - self.first],
                          stats is None])
        del self.frames[: self.pairs - self.first], self.crcs[: self.pairs - self.first]
        self.first = self.pairs

    def add(self, frames: np.ndarray) -> None:
        if self.ended:
            raise RuntimeError("PairStatistics.add after table(): the stream has ended")
        if not len(frames):
            return
        self.crcs += [fingerprint(frame) for frame in frames]  # of the frames a shard decodes
        if frames.dtype == np.uint16:  # flow on 8-bit images; shards keep the 16 bits
            frames = to_8bit(frames)
        self.frames += list(frames)
        lattice = list(range(self.next_lattice, self.first + len(self.frames) - 1, self.step))
        if not lattice:
            return
        self.stats.update(zip(lattice, self._run([partial(self._pair, x) for x in lattice]),
                              strict=True))
        self.next_lattice = lattice[-1] + self.step
        ends = range(self.pairs + self.step, lattice[-1] + 1, self.step)
        if ends:
            self._settle([(b - self.step, b, self._fails(b)) for b in ends])

    def end(self) -> None:
        """Settle the pairs after the last lattice pair (as if a passing pair followed)."""
        n_pairs = self.first + len(self.frames) - 1
        if not self.ended and n_pairs > self.pairs:
            self._settle([(self.pairs, n_pairs, False)])
        self.ended = True

    def __enter__(self) -> PairStatistics:
        return self

    def __exit__(self, *exc: object) -> None:
        """End the stream and stop the worker threads (the rows stay readable)."""
        if exc[0] is None:
            self.end()
        if self.pool:
            self.pool.shutdown()

    def table(self) -> pd.DataFrame:
        """The rows of every pair; with a skip rule, the rule in its columns beside them."""
        self.end()
        values = (np.concatenate(self.blocks)[: self.pairs] if self.blocks
                  else np.empty((0, len(PAIR_COLUMNS))))
        table = pd.DataFrame(values, columns=PAIR_COLUMNS)
        for column in ("pair", "crc", "crc_next"):  # exact in float64: integers below 2**32
            table[column] = table[column].astype(np.int64)
        table["skipped"] = table["skipped"].astype(bool)
        if self.skip:
            for field, column in RULE_COLUMNS.items():
                table[column] = getattr(self.skip, field)
        return table


def frame_fingerprints(table: pd.DataFrame) -> np.ndarray:
    """Every frame's :func:`fingerprint`, from a flow table (frame i: pair i's ``crc``, the
    last frame: the last pair's ``crc_next``)."""
    return np.r_[table["crc"].to_numpy(), table["crc_next"].to_numpy()[-1:]].astype(np.int64)


def flow_table(frames: np.ndarray, backend: FlowBackend | Sequence[FlowBackend],
               region_px: int = REGION_PX, border_px: int = BORDER_PX,
               skip: SkipRule | None = None, evidence: float = EVIDENCE) -> pd.DataFrame:
    """Statistics for every consecutive pair (i, i+1) of an (N, H, W, 3) array, one row each
    (NaN for the pairs ``skip`` skips)."""
    with PairStatistics(backend, region_px, border_px, skip, evidence) as acc:
        acc.add(frames)
    return acc.table()
