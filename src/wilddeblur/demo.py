"""The embedded demo: 240 fps clips rendered from real photographs shipped by scikit-image.

Each clip is a hand-held camera moving over a mosaic of real photos (smooth path, tremor, a
slight roll and zoom), with one object cut from another photo moving on its own on top
(space-varying motion and occlusions). Calm stretches (under 1 px per frame after the ×3
downsampling of §2) alternate with fast ones (about 2–3 px per frame) that the flow threshold of
§2 step 3 must reject. The exact motion of every frame is saved beside the clip, so the flow and
the selection can be checked against ground truth. Test clips use other photos than training
clips (the paper splits by location).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter1d
from skimage import data as skdata
from tqdm import tqdm

from wilddeblur.videoio import encode_h264, finish


@dataclass(frozen=True)
class ClipSpec:
    """A demo clip: its split, the photos of the background mosaic, and the moving object."""

    split: str
    background: tuple[str, ...]
    object: str


DEMO_CLIPS: dict[str, ClipSpec] = {
    "demo-train-a": ClipSpec("train", ("astronaut", "coffee"), "chelsea"),
    "demo-train-b": ClipSpec("train", ("rocket", "hubble_deep_field"), "immunohistochemistry"),
    "demo-test-a": ClipSpec("test", ("motorcycle_left", "motorcycle_right"), "retina"),
}

CALM_SPEED = (0.15, 0.55)  # camera speed in downsampled px per frame, calm stretches
FAST_SPEED = (1.8, 3.0)  # fast stretches: rejected by the 1 px threshold
OBJECT_CALM_SPEED = (0.1, 0.45)
OBJECT_FAST_SPEED = (1.5, 2.5)
TREMOR_SPEED = 0.12  # amplitude of the hand tremor's velocity, downsampled px per frame


def photo(name: str) -> np.ndarray:
    """A real RGB photograph bundled with scikit-image (no download)."""
    if name == "motorcycle_left":
        return skdata.stereo_motorcycle()[0]
    if name == "motorcycle_right":
        return skdata.stereo_motorcycle()[1][:, ::-1]  # mirrored: continues the mosaic
    img = getattr(skdata, name)()
    return img[..., :3] if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)


def mosaic(names: tuple[str, ...], height: int) -> np.ndarray:
    """Photos resized to a common height and placed side by side."""
    tiles = []
    for name in names:
        img = photo(name)
        w = round(img.shape[1] * height / img.shape[0])
        tiles.append(cv2.resize(img, (w, height), interpolation=cv2.INTER_CUBIC))
    return np.ascontiguousarray(np.concatenate(tiles, axis=1))


def speed_profile(rng: np.random.Generator, n: int, calm: tuple, fast: tuple) -> np.ndarray:
    """Per-frame speed: calm and fast stretches alternating, starting calm, smoothed."""
    speed = np.empty(n)
    i, is_fast = 0, False
    while i < n:
        length = int(rng.integers(max(2, int(0.15 * n)), max(3, int(0.35 * n))))
        speed[i : i + length] = rng.uniform(*(fast if is_fast else calm))
        i += length
        is_fast = not is_fast
    return gaussian_filter1d(speed, sigma=4.0, mode="nearest")


def planar_path(rng: np.random.Generator, speed: np.ndarray) -> np.ndarray:
    """Integrate a speed profile along a slowly turning direction; return (n, 2) positions."""
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.02, speed.size))
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


def rotation(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def camera_matrices(
    rng: np.random.Generator, n: int, fps: float, size: tuple[int, int], canvas: tuple[int, int],
    factor: int,
) -> np.ndarray:
    """(n, 2, 3) affine maps from frame pixels to canvas pixels along a hand-held path."""
    (w, h), (cw, ch) = size, canvas
    pos = factor * (planar_path(rng, speed_profile(rng, n, CALM_SPEED, FAST_SPEED))
                    + tremor(rng, n, fps))
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
    rng: np.random.Generator, n: int, size: tuple[int, int], radius: float, factor: int
) -> np.ndarray:
    """(n, 3) object centre x, y (frame pixels) and angle (radians) moving on its own."""
    w, h = size
    pos = factor * planar_path(rng, speed_profile(rng, n, OBJECT_CALM_SPEED, OBJECT_FAST_SPEED))
    x = fold(rng.uniform(radius, w - radius) + pos[:, 0], radius, w - radius)
    y = fold(rng.uniform(radius, h - radius) + pos[:, 1], radius, h - radius)
    angle = np.deg2rad(rng.uniform(-0.05, 0.05)) * np.arange(n)
    return np.stack([x, y, angle], axis=1)


def round_sprite(img: np.ndarray, radius: int) -> np.ndarray:
    """A disc cut from the centre of a photo, RGBA float32 with a soft 2 px edge."""
    side = min(img.shape[:2])
    y0, x0 = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
    rgb = cv2.resize(img[y0 : y0 + side, x0 : x0 + side], (2 * radius, 2 * radius),
                     interpolation=cv2.INTER_AREA).astype(np.float32)
    yy, xx = np.mgrid[: 2 * radius, : 2 * radius] + 0.5
    dist = np.hypot(xx - radius, yy - radius)
    alpha = np.clip((radius - dist) / 2.0, 0, 1).astype(np.float32)
    return np.dstack([rgb, alpha])


def object_matrix(pose: np.ndarray, radius: float) -> np.ndarray:
    """Affine map from frame pixels to sprite pixels for an object pose (x, y, angle)."""
    lin = rotation(-pose[2])
    return np.hstack([lin, (np.array([radius, radius]) - lin @ pose[:2])[:, None]])


def render_frame(
    canvas: np.ndarray, cam: np.ndarray, sprite: np.ndarray, pose: np.ndarray,
    size: tuple[int, int],
) -> np.ndarray:
    """One RGB uint8 frame: the warped background with the object composited on top."""
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    bg = cv2.warpAffine(canvas, cam, size, flags=flags, borderMode=cv2.BORDER_REFLECT)
    radius = sprite.shape[0] / 2
    fg = cv2.warpAffine(sprite, object_matrix(pose, radius), size, flags=flags,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    alpha = fg[..., 3:]
    out = bg.astype(np.float32) * (1 - alpha) + fg[..., :3] * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def max_displacements(
    cams: np.ndarray, poses: np.ndarray, size: tuple[int, int], radius: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exact largest motion (frame pixels) from each frame to the next: background, object."""
    w, h = size
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], float).T
    n = len(cams)
    cam_disp = np.full(n, np.nan)
    obj_disp = np.full(n, np.nan)
    ring = radius * np.stack([np.cos(np.linspace(0, 2 * np.pi, 64, endpoint=False)),
                              np.sin(np.linspace(0, 2 * np.pi, 64, endpoint=False))])
    for i in range(n - 1):
        a0, a1 = np.vstack([cams[i], [0, 0, 1]]), np.vstack([cams[i + 1], [0, 0, 1]])
        moved = np.linalg.solve(a1, a0 @ corners)
        cam_disp[i] = np.hypot(*(moved[:2] - corners[:2])).max()
        p0 = rotation(poses[i, 2]) @ ring + poses[i, :2, None]
        p1 = rotation(poses[i + 1, 2]) @ ring + poses[i + 1, :2, None]
        obj_disp[i] = np.hypot(*(p1 - p0)).max()
    return cam_disp, obj_disp


def ground_truth_flow(motion: pd.DataFrame, frame: int, size: tuple[int, int]) -> np.ndarray:
    """Dense flow (H, W, 2) in frame pixels from ``frame`` to ``frame + 1``, from a motion table."""
    w, h = size
    rows = motion.set_index("frame").loc[[frame, frame + 1]]
    cams = rows[[f"cam_{k}" for k in "abcdef"]].to_numpy().reshape(2, 2, 3)
    poses = rows[["obj_x", "obj_y", "obj_angle"]].to_numpy()
    radius = float(rows["obj_radius"].iloc[0])
    yy, xx = np.mgrid[:h, :w].astype(np.float64) + 0.5
    pts = np.stack([xx.ravel(), yy.ravel(), np.ones(xx.size)])
    a0, a1 = np.vstack([cams[0], [0, 0, 1]]), np.vstack([cams[1], [0, 0, 1]])
    flow = (np.linalg.solve(a1, a0 @ pts)[:2] - pts[:2]).T.reshape(h, w, 2)
    rel = pts[:2] - poses[0, :2, None]
    inside = (np.hypot(*rel) <= radius).reshape(h, w)
    moved = rotation(poses[1, 2] - poses[0, 2]) @ rel + poses[1, :2, None]
    obj_flow = (moved - pts[:2]).T.reshape(h, w, 2)
    flow[inside] = obj_flow[inside]
    return flow.astype(np.float32)


def render_clip(
    name: str, out: Path, *, width: int = 1280, height: int = 720, fps: float = 240.0,
    seconds: float = 2.0, seed: int = 0, factor: int = 3,
) -> pd.DataFrame:
    """Render demo clip ``name`` to ``out`` (H.264 mp4) and its motion to ``out``.motion.csv.

    Returns the motion table: per frame the camera's frame→canvas affine map (cam_a..cam_f),
    the object pose, and the exact largest displacement to the next frame, in frame pixels and
    in downsampled pixels (``gt_max_disp_ds``, the quantity the 1 px threshold is about).
    """
    spec = DEMO_CLIPS[name]
    rng = np.random.default_rng([seed, sorted(DEMO_CLIPS).index(name)])
    n = round(seconds * fps)
    size = (width, height)
    canvas = mosaic(spec.background, round(1.3 * height))
    radius = round(0.2 * height)
    sprite = round_sprite(photo(spec.object), radius)
    cams = camera_matrices(rng, n, fps, size, (canvas.shape[1], canvas.shape[0]), factor)
    poses = object_poses(rng, n, size, radius, factor)
    cam_disp, obj_disp = max_displacements(cams, poses, size, radius)
    motion = pd.DataFrame({"frame": np.arange(n)})
    for k, col in enumerate("abcdef"):
        motion[f"cam_{col}"] = cams.reshape(n, 6)[:, k]
    motion["obj_x"], motion["obj_y"], motion["obj_angle"] = poses.T
    motion["obj_radius"] = float(radius)
    motion["cam_max_disp"], motion["obj_max_disp"] = cam_disp, obj_disp
    motion["gt_max_disp_ds"] = np.maximum(cam_disp, obj_disp) / factor

    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    proc = encode_h264(tmp, width, height, fps)
    assert proc.stdin is not None
    try:
        for i in tqdm(range(n), desc=f"render {name}", unit="frame", mininterval=2):
            proc.stdin.write(render_frame(canvas, cams[i], sprite, poses[i], size).tobytes())
    except BrokenPipeError:
        pass  # finish() reports ffmpeg's own error message
    finish(proc, tmp)
    csv_tmp = out.with_name(out.name + ".motion.csv.tmp")
    motion.to_csv(csv_tmp, index=False)
    os.replace(csv_tmp, motion_path(out))
    os.replace(tmp, out)
    return motion


def motion_path(clip: Path) -> Path:
    """Where the ground-truth motion of a demo clip is saved."""
    return Path(clip).with_name(Path(clip).name + ".motion.csv")
