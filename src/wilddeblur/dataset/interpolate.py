"""Frames synthesised between consecutive frames before averaging (``interpolate.factor``,
beyond the paper: REDS, RSBlur and DVD interpolate too, issue 27).

Between frames I0 and I1, with forward flow F01 and backward flow F10 from the flow backend the
selection uses, the frame at t ∈ (0, 1) is a blend of I0 and I1 warped to t: the flow from t
back to each end is approximated from F01 and F10 as in Super SloMo (Jiang et al., CVPR 2018,
Eq. 4), and each end counts only where its pixel stays visible, by a forward–backward
consistency check (Sundaram et al., ECCV 2010): what the motion covers between the frames is
taken from the frame that shows it.
"""

from __future__ import annotations

import numpy as np

from wilddeblur.dataset.average import codes_of
from wilddeblur.flow.backends import FlowBackend
from wilddeblur.flow.stats import to_8bit, warp_back

CONSISTENCY = (0.01, 0.5)  # Sundaram et al.: |F01 + F10(x + F01)|² ≤ a (|F01|² + |F10|²) + b


def visible(flow: np.ndarray, back: np.ndarray) -> np.ndarray:
    """1 where a pixel's ``flow`` to the other frame is undone by the ``back`` flow found
    there (the pixel is visible in both frames), else 0; float32 (H, W)."""
    back_there, _ = warp_back(back, flow)
    a, b = CONSISTENCY
    err = np.sum((flow + back_there) ** 2, axis=2)
    bound = a * (np.sum(flow**2, axis=2) + np.sum(back_there**2, axis=2)) + b
    return (err <= bound).astype(np.float32)


def between(frame0: np.ndarray, frame1: np.ndarray, f01: np.ndarray, f10: np.ndarray,
            times: np.ndarray) -> list[np.ndarray]:
    """The frames at each of ``times`` in (0, 1) between float32 frames ``frame0`` and
    ``frame1`` (H, W, 3)."""
    vis0, vis1 = visible(f01, f10), visible(f10, f01)
    out = []
    for t in times:
        ft0 = -(1 - t) * t * f01 + t * t * f10
        ft1 = (1 - t) * (1 - t) * f01 - t * (1 - t) * f10
        g0, _ = warp_back(frame0, ft0)
        g1, _ = warp_back(frame1, ft1)
        w0 = (1 - t) * warp_back(vis0, ft0)[0]
        w1 = t * warp_back(vis1, ft1)[0]
        total = w0 + w1
        none = total < 1e-3  # neither end sees it: plain blend
        w0, w1 = np.where(none, 1 - t, w0), np.where(none, t, w1)
        out.append((w0[..., None] * g0 + w1[..., None] * g1) / (w0 + w1)[..., None])
    return out


def interpolate_window(frames: np.ndarray, factor: int, backend: FlowBackend) -> np.ndarray:
    """A window's Ne frames with ``factor`` − 1 frames synthesised between each consecutive
    pair: (factor (Ne − 1) + 1, H, W, 3) float32 8-bit codes (16-bit frames scaled, not
    rounded), the original frames at every ``factor``-th place (so the central one stays in
    the centre). The flow sees 8-bit frames, as in the flow stage."""
    eight = frames if frames.dtype == np.uint8 else to_8bit(frames)
    codes = codes_of(frames).astype(np.float32)
    times = (np.arange(1, factor) / factor).astype(np.float32)
    out = [codes[0]]
    for i in range(len(frames) - 1):
        if factor > 1:
            f01, f10 = backend(eight[i], eight[i + 1]), backend(eight[i + 1], eight[i])
            out += between(codes[i], codes[i + 1], f01, f10, times)
        out.append(codes[i + 1])
    return np.stack(out)

