"""The embedded demo's scene: photos, drawing a frame (a warped background with disc objects
on top), and the exact motion of every pixel between frames (the ground truth of
:mod:`wilddeblur.video.demo`'s clips)."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
from skimage import data as skdata


def photo(name: str) -> np.ndarray:
    """A real RGB photograph bundled with scikit-image or matplotlib (no download)."""
    if name == "grace_hopper":
        from matplotlib import cbook
        from matplotlib.image import imread

        return imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
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


def rotation(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


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


def composite(frame: np.ndarray, sprite: np.ndarray, pose: np.ndarray) -> None:
    """Draw an RGBA sprite at ``pose`` (x, y, angle) over ``frame`` in place, touching only the
    sprite's bounding box (the same values as warping it over the whole frame)."""
    h, w = frame.shape[:2]
    radius = sprite.shape[0] / 2
    reach = int(np.ceil(radius * np.sqrt(2))) + 2
    x0, y0 = max(0, int(pose[0]) - reach), max(0, int(pose[1]) - reach)
    x1, y1 = min(w, int(pose[0]) + reach + 1), min(h, int(pose[1]) + reach + 1)
    if x0 >= x1 or y0 >= y1:
        return
    shifted = np.array([pose[0] - x0, pose[1] - y0, pose[2]])
    fg = cv2.warpAffine(sprite, object_matrix(shifted, radius), (x1 - x0, y1 - y0),
                        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    alpha = fg[..., 3:]
    roi = frame[y0:y1, x0:x1]
    roi[:] = np.clip(roi * (1 - alpha) + fg[..., :3] * alpha + 0.5, 0, 255).astype(np.uint8)


def render_frame(
    canvas: np.ndarray, cam: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]],
    size: tuple[int, int],
) -> np.ndarray:
    """One RGB uint8 frame: the warped background with the (sprite, pose) layers on top, in
    order."""
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    frame = cv2.warpAffine(canvas, cam, size, flags=flags, borderMode=cv2.BORDER_REFLECT)
    for sprite, pose in layers:
        composite(frame, sprite, pose)
    return frame


def camera_displacement(cams: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Exact largest motion (frame pixels) of the background from each frame to the next."""
    w, h = size
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], float).T
    disp = np.full(len(cams), np.nan)
    for i in range(len(cams) - 1):
        a0, a1 = np.vstack([cams[i], [0, 0, 1]]), np.vstack([cams[i + 1], [0, 0, 1]])
        moved = np.linalg.solve(a1, a0 @ corners)
        disp[i] = np.hypot(*(moved[:2] - corners[:2])).max()
    return disp


def object_displacement(poses: np.ndarray, radius: float) -> np.ndarray:
    """Exact largest motion (frame pixels) of a disc object from each frame to the next."""
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    ring = radius * np.stack([np.cos(angles), np.sin(angles)])
    disp = np.full(len(poses), np.nan)
    for i in range(len(poses) - 1):
        p0 = rotation(poses[i, 2]) @ ring + poses[i, :2, None]
        p1 = rotation(poses[i + 1, 2]) @ ring + poses[i + 1, :2, None]
        disp[i] = np.hypot(*(p1 - p0)).max()
    return disp


OBJECTS = ("obj", "small")  # composited in this order; columns {name}_x, _y, _angle, _radius


def ground_truth_flow(motion: pd.DataFrame, frame: int, size: tuple[int, int],
                      step: int = 1) -> np.ndarray:
    """Dense flow in frame pixels from ``frame`` to ``frame + 1``, from a motion table, at the
    centres of ``step``×``step`` pixel blocks: (H // step, W // step, 2); ``step`` = the
    downsampling factor gives the flow on the downsampled grid (still in frame pixels)."""
    w, h = size
    rows = motion.set_index("frame").loc[[frame, frame + 1]]
    cams = rows[[f"cam_{k}" for k in "abcdef"]].to_numpy().reshape(2, 2, 3)
    yy, xx = np.mgrid[: h // step, : w // step].astype(np.float64) * step + step / 2
    h, w = yy.shape
    pts = np.stack([xx.ravel(), yy.ravel(), np.ones(xx.size)])
    a0, a1 = np.vstack([cams[0], [0, 0, 1]]), np.vstack([cams[1], [0, 0, 1]])
    flow = (np.linalg.solve(a1, a0 @ pts)[:2] - pts[:2]).T.reshape(h, w, 2)
    for name in OBJECTS:
        if f"{name}_x" not in rows:
            continue
        poses = rows[[f"{name}_x", f"{name}_y", f"{name}_angle"]].to_numpy()
        rel = pts[:2] - poses[0, :2, None]
        inside = (np.hypot(*rel) <= float(rows[f"{name}_radius"].iloc[0])).reshape(h, w)
        moved = rotation(poses[1, 2] - poses[0, 2]) @ rel + poses[1, :2, None]
        flow[inside] = (moved - pts[:2]).T.reshape(h, w, 2)[inside]
    return flow.astype(np.float32)
