"""Clips with stretches of chosen speeds, rendered at any instant: the ground truth of frame
interpolation (issue 27). A camera pans over a mosaic of real photos at a per-stretch speed
(downsampled pixels per frame, the unit of §2 step 3's threshold) while a disc cut from another
photo moves across it in another direction. Motion is linear between frames, so the true
exposure of any interval is the mean of the scene rendered densely over it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter1d

from wilddeblur.video.demo import fold, motion_path
from wilddeblur.video.demo_scene import (
    camera_displacement,
    mosaic,
    object_displacement,
    photo,
    render_frame,
    round_sprite,
)
from wilddeblur.video.downsample import downsampled_size
from wilddeblur.video.io import encode_h264, finish

OBJECT_SHARE = 0.6  # the disc's speed in the frame, as a share of the stretch's pan speed
OBJECT_TURN = np.pi / 2  # its direction against the pan's
SMOOTH_FRAMES = 3.0  # speed changes between stretches are smoothed over about this many frames


@dataclass(frozen=True)
class StretchScene:
    """A clip's content at every instant: camera frame→canvas maps ``cams`` (n, 2, 3) and disc
    poses ``poses`` (n, 3: x, y, angle in frame pixels) at each frame, linear in between."""

    canvas: np.ndarray
    sprite: np.ndarray
    cams: np.ndarray
    poses: np.ndarray
    size: tuple[int, int]
    fps: float
    factor: int

    @property
    def frames(self) -> int:
        return len(self.cams)

    def render(self, t: float) -> np.ndarray:
        """The RGB uint8 frame at time ``t`` in frames (any real number in [0, n − 1])."""
        i = min(int(np.floor(t)), self.frames - 2)
        a = t - i
        cam = (1 - a) * self.cams[i] + a * self.cams[i + 1]
        pose = (1 - a) * self.poses[i] + a * self.poses[i + 1]
        return render_frame(self.canvas, cam, [(self.sprite, pose)], self.size)

    def exposure(self, t0: float, t1: float, samples: int,
                 gamma: float | None = None) -> np.ndarray:
        """The true exposure of [t0, t1] (frames): the mean of ``samples`` renders at the
        midpoints of equal sub-intervals, area-downsampled by ``factor`` as §2 step 1 does;
        float64 8-bit codes (downsampled H, W, 3). With ``gamma``, the mean is taken in linear
        light (codes / 255 to the power ``gamma``, as a sensor integrates) and mapped back:
        the exposure of a camera whose response is that curve."""
        total = np.zeros((*self.size[::-1], 3))
        for t in t0 + (np.arange(samples) + 0.5) * (t1 - t0) / samples:
            frame = self.render(float(t)).astype(np.float64)
            total += frame if gamma is None else (frame / 255) ** gamma
        mean = total / samples if gamma is None else 255 * (total / samples) ** (1 / gamma)
        return cv2.resize(mean, downsampled_size(*self.size, self.factor),
                          interpolation=cv2.INTER_AREA)

    def object_box(self, t0: float, t1: float) -> tuple[slice, slice]:
        """Rows and columns (downsampled pixels) of the box the disc covers over [t0, t1]."""
        i0, i1 = int(np.floor(t0)), int(np.ceil(t1))
        pos = self.poses[max(i0, 0) : min(i1, self.frames - 1) + 1, :2] / self.factor
        r = self.sprite.shape[0] / 2 / self.factor
        w, h = downsampled_size(*self.size, self.factor)
        (x0, y0), (x1, y1) = pos.min(0) - r, pos.max(0) + r
        return (slice(max(int(y0), 0), min(int(np.ceil(y1)), h)),
                slice(max(int(x0), 0), min(int(np.ceil(x1)), w)))


def parse_stretches(text: str) -> list[tuple[float, float]]:
    """Stretches written "speed:seconds,..." (downsampled px per frame) → [(speed, seconds)]."""
    return [(float(a), float(b)) for a, b in (part.split(":") for part in text.split(","))]


def speed_per_frame(stretches: Sequence[tuple[float, float]], fps: float) -> np.ndarray:
    """Per-frame pan speed from (speed, seconds) stretches, smoothed at the changes."""
    speed = np.concatenate([np.full(round(s * fps), v, float) for v, s in stretches])
    return gaussian_filter1d(speed, SMOOTH_FRAMES, mode="nearest")


def stretch_scene(stretches: Sequence[tuple[float, float]],
                  photos: Sequence[str] = ("astronaut", "coffee", "rocket"),
                  disc_photo: str = "chelsea", *, seed: int = 0,
                  size: tuple[int, int] = (1280, 720), fps: float = 240.0,
                  factor: int = 3) -> StretchScene:
    """A scene whose pan moves at each stretch's speed (downsampled px per frame) for its
    seconds, in a direction drawn from ``seed``, with a disc (a fifth of the frame's height
    across) moving at OBJECT_SHARE of that speed, OBJECT_TURN away from the pan."""
    rng = np.random.default_rng(seed)
    w, h = size
    speed = speed_per_frame(stretches, fps) * factor
    heading = rng.uniform(0, 2 * np.pi)
    canvas = mosaic(tuple(photos), round(1.6 * h))
    ch, cw = canvas.shape[:2]
    steps = np.cumsum(np.r_[0, speed[:-1]])
    cx = fold(cw / 2 + np.cos(heading) * steps, 0.55 * w, cw - 0.55 * w)
    cy = fold(ch / 2 + np.sin(heading) * steps, 0.55 * h, ch - 0.55 * h)
    cams = np.zeros((len(speed), 2, 3))
    cams[:, 0, 0] = cams[:, 1, 1] = 1.0
    cams[:, 0, 2], cams[:, 1, 2] = cx - w / 2, cy - h / 2
    radius = round(0.1 * h)
    turn = heading + OBJECT_TURN
    x = fold(rng.uniform(0.3, 0.7) * w + OBJECT_SHARE * np.cos(turn) * steps, radius, w - radius)
    y = fold(rng.uniform(0.3, 0.7) * h + OBJECT_SHARE * np.sin(turn) * steps, radius, h - radius)
    poses = np.stack([x, y, np.zeros_like(x)], axis=1)
    return StretchScene(canvas, round_sprite(photo(disc_photo), radius), cams, poses, size, fps,
                        factor)


def render_stretch_clip(scene: StretchScene, out: Path) -> pd.DataFrame:
    """Encode ``scene``'s frames to ``out`` (H.264, as the demo clips) and its motion to
    ``out``.motion.csv (the demo's columns: cam_a..f, small_*, the exact largest displacement
    to the next frame, ``gt_max_disp_ds`` in downsampled pixels)."""
    w, h = scene.size
    proc = encode_h264(Path(out), w, h, scene.fps)
    assert proc.stdin is not None
    for i in range(scene.frames):
        proc.stdin.write(scene.render(i).tobytes())
    finish(proc, Path(out))
    radius = scene.sprite.shape[0] / 2
    motion = pd.DataFrame({"frame": np.arange(scene.frames)})
    for k, col in enumerate("abcdef"):
        motion[f"cam_{col}"] = scene.cams.reshape(-1, 6)[:, k]
    motion["small_x"], motion["small_y"], motion["small_angle"] = scene.poses.T
    motion["small_radius"] = radius
    motion["small_max_disp"] = object_displacement(scene.poses, radius)
    motion["cam_max_disp"] = camera_displacement(scene.cams, scene.size)
    motion["gt_max_disp_ds"] = motion[["cam_max_disp", "small_max_disp"]].max(
        axis=1, skipna=False) / scene.factor
    motion.to_csv(motion_path(Path(out)), index=False)
    return motion
