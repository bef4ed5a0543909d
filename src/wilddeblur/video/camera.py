"""Clips encoded the way cameras encode them (issue 31): a still, low-texture scene with a
low-contrast object, sensor noise in every frame, and H.264 at a camera's bit rate with a key
frame every ``gop`` frames. Between key frames the encoder keeps flat areas as they were (the
noise is not worth its bits); each key frame refreshes them at once, a small change over the
whole frame with no motion at all. The demo's clips (constant quality, long
GOPs, no noise) have no such pulses.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter1d

from wilddeblur.video.demo import fold, motion_path, tremor
from wilddeblur.video.demo_scene import mosaic, photo, render_frame, round_sprite
from wilddeblur.video.io import encode_h264, finish

WALL_CONTRAST = 0.15  # the background: photos blurred and flattened to this share of contrast
WALL_BLUR = 6.0  # Gaussian sigma of that blur, frame pixels
OBJECT_CONTRAST = 0.5  # the disc: a photo at this share of its contrast, near the wall's level


def flatten(img: np.ndarray, contrast: float, blur: float = 0.0) -> np.ndarray:
    """``img`` (uint8) blurred by ``blur`` and scaled to ``contrast`` about its mean."""
    out = img.astype(np.float32)
    if blur:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    mean = out.mean(axis=(0, 1))
    return np.clip(mean + contrast * (out - mean), 0, 255).astype(np.uint8)


def object_speeds(stretches: Sequence[tuple[float, float]], fps: float) -> np.ndarray:
    """Per-frame object speed from (speed, seconds) stretches, smoothed over about 2 frames."""
    speed = np.concatenate([np.full(round(s * fps), v, float) for v, s in stretches])
    return gaussian_filter1d(speed, 2.0, mode="nearest")


def render_camera_clip(out: Path, stretches: Sequence[tuple[float, float]], *,
                       pan: float = 0.0, hand: bool = False, noise: float = 2.0,
                       gop: int = 10, bitrate: str = "6M", size: tuple[int, int] = (1280, 720),
                       fps: float = 240.0, factor: int = 3, seed: int = 0) -> pd.DataFrame:
    """Encode a camera-like clip to ``out`` and its motion table beside it (the demo's columns:
    cam_a..f, small_*). A disc (a tenth of the frame's height across, low contrast) crosses
    the frame at each stretch's speed (downsampled px per frame) for its seconds; the camera
    pans at ``pan`` (downsampled px per frame) and, with ``hand``, shakes as a hand holds it.
    Every frame gets Gaussian noise of ``noise`` levels; x264 encodes at ``bitrate`` with a key
    frame every ``gop`` frames."""
    rng = np.random.default_rng(seed)
    w, h = size
    speed = object_speeds(stretches, fps)
    n = speed.size
    canvas = flatten(mosaic(("coffee", "astronaut"), round(1.4 * h)), WALL_CONTRAST, WALL_BLUR)
    ch, cw = canvas.shape[:2]
    path = factor * (pan * np.arange(n)[:, None] * [1.0, 0.3]
                     + (tremor(rng, n, fps) if hand else 0.0))
    cams = np.zeros((n, 2, 3))
    cams[:, 0, 0] = cams[:, 1, 1] = 1.0
    cams[:, 0, 2] = fold(0.1 * w + path[:, 0], 0, cw - w - 1)
    cams[:, 1, 2] = fold(0.1 * h + path[:, 1], 0, ch - h - 1)
    radius = round(0.05 * h)
    sprite = round_sprite(flatten(photo("chelsea"), OBJECT_CONTRAST), radius)
    steps = factor * np.cumsum(np.r_[0.0, speed[:-1]])
    poses = np.stack([fold(0.2 * w + steps, radius, w - radius),
                      fold(0.4 * h + 0.3 * steps, radius, h - radius), np.zeros(n)], axis=1)
    proc = encode_h264(Path(out), w, h, fps, bitrate=bitrate, gop=gop)
    assert proc.stdin is not None
    for i in range(n):
        frame = render_frame(canvas, cams[i], [(sprite, poses[i])], size).astype(np.float32)
        frame += rng.normal(0.0, noise, frame.shape).astype(np.float32)
        proc.stdin.write(np.clip(frame + 0.5, 0, 255).astype(np.uint8).tobytes())
    finish(proc, Path(out))
    motion = pd.DataFrame({"frame": np.arange(n)})
    for k, col in enumerate("abcdef"):
        motion[f"cam_{col}"] = cams.reshape(n, 6)[:, k]
    motion["small_x"], motion["small_y"], motion["small_angle"] = poses.T
    motion["small_radius"] = float(radius)
    motion.to_csv(motion_path(Path(out)), index=False)
    return motion
