"""The embedded demo: 240 fps clips rendered from real photographs shipped by scikit-image.

Each clip is a hand-held camera moving over a mosaic of real photos (smooth path, tremor, a
slight roll and zoom), with one object cut from another photo moving on its own on top
(space-varying motion and occlusions). Calm stretches (under 1 px per frame after the ×3
downsampling of §2) alternate with fast ones (about 2–3 px per frame) that the flow threshold of
§2 step 3 must reject. One stretch holds the camera nearly still while a small object (about
20×20 downsampled pixels) crosses the frame at 2–3.5 px per frame: averaging it would make the
ghosts that §2 step 3 exists to prevent, and a statistic that ignores a fraction of the frame
(a percentile) lets it through. The exact motion of every frame is saved beside the clip, so
the flow and the selection can be checked against ground truth. Test clips use other photos
than training clips (the paper splits by location).
"""

from __future__ import annotations

import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter1d
from tqdm import tqdm

from wilddeblur.errors import ConfigError
from wilddeblur.video.demo_scene import (
    camera_displacement,
    ground_truth_flow,  # noqa: F401  (the clips' true flow)
    mosaic,
    object_displacement,
    photo,
    render_frame,
    rotation,
    round_sprite,
)
from wilddeblur.video.io import encode_h264, finish


@dataclass(frozen=True)
class ClipSpec:
    """A demo clip: its split, the photos of the background mosaic, and the moving object."""

    split: str
    background: tuple[str, ...]
    object: str
    small_object: str


DEMO_CLIPS: dict[str, ClipSpec] = {
    "demo-train-a": ClipSpec("train", ("astronaut", "coffee"), "chelsea", "rocket"),
    "demo-train-b": ClipSpec("train", ("rocket", "hubble_deep_field"), "immunohistochemistry",
                             "coffee"),
    "demo-train-c": ClipSpec("train", ("grace_hopper", "camera"), "coins", "astronaut"),
    "demo-train-d": ClipSpec("train", ("brick", "gravel", "grass"), "colorwheel", "chelsea"),
    "demo-train-e": ClipSpec("train", ("page", "moon", "text"), "cell", "hubble_deep_field"),
    "demo-test-a": ClipSpec("test", ("motorcycle_left", "motorcycle_right"), "retina",
                            "motorcycle_left"),
    "demo-test-b": ClipSpec("test", ("motorcycle_right", "retina"), "motorcycle_left",
                            "retina"),
}

TEST_PHOTOS = ("motorcycle_left", "motorcycle_right", "retina")
TRAIN_PHOTOS = tuple(sorted(
    {p for c in DEMO_CLIPS.values() for p in (*c.background, c.object, c.small_object)}
    - set(TEST_PHOTOS)))
RENDERED_CLIP = re.compile(r"rendered-(train|test)-[0-9]+")


def clip_spec(name: str) -> ClipSpec:
    """The spec of a demo clip: one of DEMO_CLIPS, or ``rendered-train-N`` / ``rendered-test-N``
    (any N): three background photos, an object and a small object drawn (by the name) from the
    training photos or from the test photos, so a larger rendered dataset keeps the demo's split
    by photo."""
    if name in DEMO_CLIPS:
        return DEMO_CLIPS[name]
    match = RENDERED_CLIP.fullmatch(name)
    if not match:
        raise ConfigError(f"demo.clips: unknown clip {name!r}; one of {sorted(DEMO_CLIPS)} or "
                          "rendered-train-N / rendered-test-N")
    split = match.group(1)
    pool = list(TRAIN_PHOTOS if split == "train" else TEST_PHOTOS)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    background = tuple(str(p) for p in rng.choice(pool, size=3, replace=False))
    obj, small = (str(p) for p in rng.choice(pool, size=2))
    return ClipSpec(split, background, obj, small)


CALM_SPEED = (0.35, 0.6)  # camera speed in downsampled px per frame, calm stretches
FAST_SPEED = (1.8, 3.0)  # fast stretches: rejected by the 1 px threshold
CALM_LENGTH = (0.15, 0.35)  # length of a calm stretch, fraction of the clip
FAST_LENGTH = (0.06, 0.15)
STILL_SPEED = 0.03  # the nearly still stretch
STILL_FRACTION = (0.44, 0.56)  # where in the clip the still stretch lies
STILL_MIN_FRAMES = 24  # each half of it (crossing, resting) lasts at least this long
OBJECT_CALM_SPEED = (0.1, 0.45)
OBJECT_FAST_SPEED = (1.5, 2.5)
SMALL_FAST_SPEED = (2.0, 3.5)  # the small object during the still stretch
SMALL_DIAMETER = 22  # downsampled pixels (a disc of ≈ 380 px: the area of a 20×20 square)
HEADING_TURN = 0.06  # radians per frame (standard deviation of the random walk)
TREMOR_SPEED = 0.12  # amplitude of the hand tremor's velocity, downsampled px per frame


def speed_profile(rng: np.random.Generator, n: int, calm: tuple, fast: tuple,
                  overrides: tuple[tuple[slice, float], ...] = ()) -> np.ndarray:
    """Per-frame speed: calm and fast stretches alternating (calm ones longer), starting calm,
    smoothed; each (frames, speed) of ``overrides`` replaces the speed over those frames."""
    speed = np.empty(n)
    i, is_fast = 0, False
    while i < n:
        share = FAST_LENGTH if is_fast else CALM_LENGTH
        length = int(rng.integers(max(2, int(share[0] * n)), max(3, int(share[1] * n))))
        speed[i : i + length] = rng.uniform(*(fast if is_fast else calm))
        i += length
        is_fast = not is_fast
    for frames, value in overrides:
        speed[frames] = value
    return gaussian_filter1d(speed, sigma=4.0, mode="nearest")


def still_stretch(n: int) -> tuple[slice, slice]:
    """The frames where the camera is nearly still: the small object crosses the frame fast in
    the first part and stands still in the second."""
    a, b = (round(f * n) for f in STILL_FRACTION)
    half = max(STILL_MIN_FRAMES, (b - a) // 2)
    return slice(a, a + half), slice(a + half, a + 2 * half)


def planar_path(rng: np.random.Generator, speed: np.ndarray) -> np.ndarray:
    """Integrate a speed profile along a wandering direction (a random walk of HEADING_TURN
    radians per frame: curved paths, and blur of many directions in one clip); return (n, 2)
    positions."""
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, HEADING_TURN, speed.size))
    velocity = speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], axis=1)
    return np.cumsum(velocity, axis=0)


def tremor(rng: np.random.Generator, n: int, fps: float) -> np.ndarray:
    """Hand tremor (4–10 Hz) as (n, 2) displacements whose velocity peaks at TREMOR_SPEED."""
    t = np.arange(n)
    out = np.zeros((n, 2))
    for axis in range(2):
        for _ in range(2):
            omega = 2 * np.pi * rng.uniform(4, 10) / fps  # radians per frame
            out[:, axis] += TREMOR_SPEED / 2 / omega * np.sin(omega * t + rng.uniform(0, 2 * np.pi))
    return out


def fold(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Reflect positions into [lo, hi] (the path bounces off the mosaic's borders)."""
    span = hi - lo
    y = np.mod(x - lo, 2 * span)
    return lo + np.where(y > span, 2 * span - y, y)


def camera_matrices(
    rng: np.random.Generator, n: int, fps: float, size: tuple[int, int], canvas: tuple[int, int],
    factor: int,
) -> np.ndarray:
    """(n, 2, 3) affine maps from frame pixels to canvas pixels along a hand-held path (nearly
    still, tremor included, over :func:`still_stretch`)."""
    (w, h), (cw, ch) = size, canvas
    crossing, resting = still_stretch(n)
    still = slice(crossing.start, resting.stop)
    speed = speed_profile(rng, n, CALM_SPEED, FAST_SPEED, ((still, STILL_SPEED),))
    shake = tremor(rng, n, fps)
    shake[still] = shake[still][:1]  # a steady hand while it is still
    pos = factor * (planar_path(rng, speed) + shake)
    t = np.arange(n) / fps
    roll = np.deg2rad(0.4) * np.sin(2 * np.pi * 0.4 * t + rng.uniform(0, 2 * np.pi))
    zoom = 1.0 + 0.02 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 2 * np.pi))
    margin = 0.56  # half the frame plus room for roll and zoom
    cx = fold(cw / 2 + pos[:, 0], margin * w, cw - margin * w)
    cy = fold(ch / 2 + pos[:, 1], margin * h, ch - margin * h)
    mats = np.empty((n, 2, 3))
    for i in range(n):
        lin = rotation(roll[i]) / zoom[i]
        mats[i, :, :2] = lin
        mats[i, :, 2] = np.array([cx[i], cy[i]]) - lin @ np.array([w / 2, h / 2])
    return mats


def object_poses(
    rng: np.random.Generator, n: int, size: tuple[int, int], radius: float, factor: int,
    speed: np.ndarray,
) -> np.ndarray:
    """(n, 3) object centre x, y (frame pixels) and angle (radians) moving on its own at
    ``speed`` (downsampled px per frame)."""
    w, h = size
    pos = factor * planar_path(rng, speed)
    x = fold(rng.uniform(radius, w - radius) + pos[:, 0], radius, w - radius)
    y = fold(rng.uniform(radius, h - radius) + pos[:, 1], radius, h - radius)
    angle = np.deg2rad(rng.uniform(-0.05, 0.05)) * np.arange(n)
    return np.stack([x, y, angle], axis=1)


def render_clip(
    name: str, out: Path, *, width: int = 1280, height: int = 720, fps: float = 240.0,
    seconds: float = 2.0, seed: int = 0, factor: int = 3,
) -> pd.DataFrame:
    """Render demo clip ``name`` to ``out`` (H.264 mp4) and its motion to ``out``.motion.csv.

    Returns the motion table: per frame the camera's frame→canvas affine map (cam_a..cam_f),
    the poses of the object and of the small object, and the exact largest displacement to the
    next frame of each, in frame pixels, and of the whole frame in downsampled pixels
    (``gt_max_disp_ds``, the quantity the 1 px threshold is about).
    """
    spec = clip_spec(name)
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])  # other clips never matter
    n = round(seconds * fps)
    size = (width, height)
    canvas = mosaic(spec.background, round(1.3 * height))
    radius = round(0.2 * height)
    small_radius = round(SMALL_DIAMETER * factor * height / 720 / 2)
    sprite = round_sprite(photo(spec.object), radius)
    small_sprite = round_sprite(photo(spec.small_object), small_radius)
    cams = camera_matrices(rng, n, fps, size, (canvas.shape[1], canvas.shape[0]), factor)
    crossing, resting = still_stretch(n)
    still = slice(crossing.start, resting.stop)
    poses = object_poses(rng, n, size, radius, factor, speed_profile(
        rng, n, OBJECT_CALM_SPEED, OBJECT_FAST_SPEED, ((still, np.mean(OBJECT_CALM_SPEED)),)))
    small = object_poses(rng, n, size, small_radius, factor, speed_profile(
        rng, n, OBJECT_CALM_SPEED, OBJECT_CALM_SPEED,
        ((crossing, rng.uniform(*SMALL_FAST_SPEED)), (resting, 0.0))))
    motion = pd.DataFrame({"frame": np.arange(n)})
    for k, col in enumerate("abcdef"):
        motion[f"cam_{col}"] = cams.reshape(n, 6)[:, k]
    for obj, p, r in (("obj", poses, radius), ("small", small, small_radius)):
        motion[f"{obj}_x"], motion[f"{obj}_y"], motion[f"{obj}_angle"] = p.T
        motion[f"{obj}_radius"] = float(r)
        motion[f"{obj}_max_disp"] = object_displacement(p, r)
    motion["cam_max_disp"] = camera_displacement(cams, size)
    motion["gt_max_disp_ds"] = motion[
        ["cam_max_disp", "obj_max_disp", "small_max_disp"]].max(axis=1, skipna=False) / factor

    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    proc = encode_h264(tmp, width, height, fps)
    assert proc.stdin is not None
    try:
        for i in tqdm(range(n), desc=f"render {name}", unit="frame", mininterval=2):
            layers = [(sprite, poses[i]), (small_sprite, small[i])]
            proc.stdin.write(render_frame(canvas, cams[i], layers, size).tobytes())
    except BrokenPipeError:
        pass  # finish() reports ffmpeg's own error message
    finish(proc, tmp)
    csv_tmp = out.with_name(out.name + ".motion.csv.tmp")
    motion.to_csv(csv_tmp, index=False)
    os.replace(csv_tmp, motion_path(out))
    os.replace(tmp, out)
    return motion


def render_pan_clip(out: Path, speed: float, small_speed: float = 0.0, *, seconds: float = 2.0,
                    size: tuple[int, int] = (1280, 720), fps: float = 240.0,
                    factor: int = 3) -> pd.DataFrame:
    """A test clip with exactly known motion: a straight pan at ``speed`` downsampled px per
    frame over real photos and, with ``small_speed``, a disc of SMALL_DIAMETER downsampled px
    (≈ a 20×20 square) crossing at that speed for the first half, then standing still.
    Writes ``out`` and its motion table (the same format as :func:`render_clip`'s)."""
    w, h = size
    n = round(seconds * fps)
    canvas = mosaic(("astronaut", "coffee", "rocket"), round(1.3 * h))
    cams = np.zeros((n, 2, 3))
    cams[:, 0, 0] = cams[:, 1, 1] = 1.0
    cams[:, 0, 2] = 20 + factor * speed * np.arange(n)
    cams[:, 1, 2] = 0.1 * h
    radius = SMALL_DIAMETER * factor / 2
    sprite = round_sprite(photo("chelsea"), round(radius))
    x = fold(0.2 * w + factor * small_speed * np.minimum(np.arange(n), n // 2), radius,
             w - radius)
    poses = np.stack([x, np.full(n, 0.5 * h), np.zeros(n)], axis=1)
    motion = pd.DataFrame({"frame": np.arange(n)})
    for k, col in enumerate("abcdef"):
        motion[f"cam_{col}"] = cams.reshape(n, 6)[:, k]
    if small_speed:
        motion["small_x"], motion["small_y"], motion["small_angle"] = poses.T
        motion["small_radius"] = float(round(radius))
    proc = encode_h264(out, w, h, fps)
    assert proc.stdin is not None
    for i in range(n):
        layers = [(sprite, poses[i])] if small_speed else []
        proc.stdin.write(render_frame(canvas, cams[i], layers, size).tobytes())
    finish(proc, out)
    motion.to_csv(motion_path(out), index=False)
    return motion


def motion_path(clip: Path) -> Path:
    """Where the ground-truth motion of a demo clip is saved."""
    return Path(clip).with_name(Path(clip).name + ".motion.csv")
