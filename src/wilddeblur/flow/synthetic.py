"""FlyingChairs-style training pairs with exact optical flow, made from real photographs.

Dosovitskiy et al. (2015) trained FlowNet on "Flying Chairs": a background photo moved by a
random affine map, with chairs on top that move by their own affine maps. Here the background
is one of the real photos scikit-image bundles (no download) and the foreground objects are
ellipses and polygons cut from another photo. Every layer is rendered by an exact affine map
from a texture, so the flow of every pixel of frame 1 is known in closed form:

- flow convention as in ``backends.py``: (H, W, 2) float32 pixels, ``[..., 0]`` = u (x),
  from frame 1 to frame 2 (what frame 1 shows at (x, y), frame 2 shows at (x + u, y + v));
- pixel centres at integer coordinates (OpenCV's convention, also that of ``cv2.remap``);
- a pixel of frame 1 takes the motion of the topmost layer covering it in frame 1.

A pair is a pure function of ``(seed, split, index)``. Training pairs use only
``TRAIN_PHOTOS``; held-out pairs only ``HELDOUT_PHOTOS`` (the photos of the demo's test clip),
so held-out scores measure generalisation to unseen images. The default motions are small
(a few pixels), as between consecutive 240 fps frames after the ×3 downsampling of §2.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from wilddeblur.video.eightbit import round_codes

TRAIN_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
                "immunohistochemistry")
HELDOUT_PHOTOS = ("motorcycle_left", "motorcycle_right", "retina")
SPLITS = {"train": TRAIN_PHOTOS, "heldout": HELDOUT_PHOTOS}
_SPLIT_IDS = {"train": 0, "heldout": 1}


@dataclass(frozen=True)
class SyntheticSpec:
    """Size and motion ranges of the synthetic pairs (pixels of the generated frames).

    Background: translation uniform in a disc of radius ``max_shift``, rotation uniform in
    ±``max_rotation`` degrees and scale change in ±``max_zoom`` about a random point of the
    frame. Objects (``min_objects``..``max_objects``) follow the background and add their own
    motion (``max_object_*``) about their centre, as the chairs do. ``noise``: Gaussian pixel
    noise (std, 0..255 levels) added to each frame independently.
    """

    height: int = 384
    width: int = 512
    max_shift: float = 4.0
    max_rotation: float = 0.5
    max_zoom: float = 0.01
    min_objects: int = 1
    max_objects: int = 3
    max_object_shift: float = 3.0
    max_object_rotation: float = 2.0
    max_object_zoom: float = 0.03
    noise: float = 1.0

    def __post_init__(self) -> None:
        if self.height < 16 or self.width < 16:
            raise ValueError(f"synthetic pairs need at least 16×16 pixels, got "
                             f"{self.height}×{self.width}")
        if not 0 <= self.min_objects <= self.max_objects:
            raise ValueError(f"need 0 <= min_objects <= max_objects, got {self.min_objects}, "
                             f"{self.max_objects}")
        for name in ("max_shift", "max_rotation", "max_zoom", "max_object_shift",
                     "max_object_rotation", "max_object_zoom", "noise"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.max_zoom >= 0.5 or self.max_object_zoom >= 0.5:
            raise ValueError("max_zoom and max_object_zoom must be < 0.5")


class SyntheticPair(NamedTuple):
    """Two H×W×3 uint8 RGB frames, the exact flow (H, W, 2) from frame1 to frame2, and
    ``valid``: True where the frame-1 pixel is still visible in frame 2 (not occluded by
    another layer, not moved out of the frame)."""

    frame1: np.ndarray
    frame2: np.ndarray
    flow: np.ndarray
    valid: np.ndarray


@functools.cache
def load_photo(name: str) -> np.ndarray:
    """A real RGB photograph bundled with scikit-image, as float32 0..255 (read-only)."""
    from skimage import data as skdata

    if name in ("motorcycle_left", "motorcycle_right"):
        img = skdata.stereo_motorcycle()[0 if name == "motorcycle_left" else 1]
    else:
        img = getattr(skdata, name)()
    img = img[..., :3] if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
    out = np.ascontiguousarray(img, dtype=np.float32)
    out.flags.writeable = False
    return out


def _affine(angle_deg: float, scale: float, centre: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """3×3 map p -> centre + shift + scale·R(angle)·(p - centre)."""
    a = np.deg2rad(angle_deg)
    lin = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    m = np.eye(3)
    m[:2, :2] = lin
    m[:2, 2] = centre + shift - lin @ centre
    return m


def _disc(rng: np.random.Generator, radius: float) -> np.ndarray:
    """A point uniform in magnitude (0..radius) and direction: small motions are common."""
    r, t = rng.uniform(0, radius), rng.uniform(0, 2 * np.pi)
    return np.array([r * np.cos(t), r * np.sin(t)])


def _motion(rng: np.random.Generator, centre: np.ndarray, shift: float, rotation: float,
            zoom: float) -> np.ndarray:
    return _affine(rng.uniform(-rotation, rotation), 1 + rng.uniform(-zoom, zoom), centre,
                   _disc(rng, shift))


def _texture(rng: np.random.Generator, name: str, cover: float) -> np.ndarray:
    """A photo, randomly mirrored and resized so that its shorter side spans ``cover`` pixels
    times a random factor (texture pixels then map about 1:1 to frame pixels)."""
    img = load_photo(name)
    mirror = rng.random() < 0.5
    factor = cover * rng.uniform(0.8, 1.3) / min(img.shape[:2])
    size = (max(8, round(img.shape[1] * factor)), max(8, round(img.shape[0] * factor)))
    out = cv2.resize(img, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)
    return cv2.flip(out, 1) if mirror else out


def _render(texture: np.ndarray, frame_to_texture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Sample ``texture`` at ``frame_to_texture``(p) for every frame pixel p (bilinear)."""
    return cv2.warpAffine(texture, frame_to_texture[:2], size,
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT_101)


def _shape(rng: np.random.Generator, radius: float) -> np.ndarray:
    """Vertices (n, 2) of an ellipse or a star-shaped polygon around the origin."""
    if rng.random() < 0.5:
        t = np.linspace(0, 2 * np.pi, 72, endpoint=False)
        a, b = radius, radius * rng.uniform(0.45, 1.0)
        return np.stack([a * np.cos(t), b * np.sin(t)], axis=1)
    n = int(rng.integers(5, 10))
    t = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = radius * rng.uniform(0.45, 1.0, n)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def _affine_flow(m: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(..., 2) displacement m(p) - p at the points (x, y)."""
    u = (m[0, 0] - 1) * x + m[0, 1] * y + m[0, 2]
    v = m[1, 0] * x + (m[1, 1] - 1) * y + m[1, 2]
    return np.stack([u, v], axis=-1)


def _mask(vertices: np.ndarray, placement: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Boolean H×W mask of the polygon ``vertices`` placed in the frame by ``placement``."""
    pts = vertices @ placement[:2, :2].T + placement[:2, 2]
    mask = np.zeros((size[1], size[0]), np.uint8)
    cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    return mask.astype(bool)


def make_pair(index: int, spec: SyntheticSpec = SyntheticSpec(), seed: int = 0,
              split: str = "train") -> SyntheticPair:
    """Synthetic pair number ``index`` of ``split`` ("train" or "heldout"); deterministic."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; one of {sorted(SPLITS)}")
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    rng = np.random.default_rng([seed, _SPLIT_IDS[split], index])
    photos = SPLITS[split]
    h, w = spec.height, spec.width
    size = (w, h)
    yy, xx = np.mgrid[:h, :w].astype(np.float64)  # pixel centres

    # Background: a photo under a random placement (frame 1 -> texture), moved by m_bg.
    bg_name = photos[int(rng.integers(len(photos)))]
    tex = _texture(rng, bg_name, 1.25 * max(h, w))
    place = _affine(rng.uniform(-15, 15), 1.0, np.array([w / 2, h / 2]),
                    np.array([tex.shape[1] / 2 - w / 2, tex.shape[0] / 2 - h / 2])
                    + _disc(rng, 0.1 * min(tex.shape[:2])))
    m_bg = _motion(rng, np.array([rng.uniform(0, w), rng.uniform(0, h)]), spec.max_shift,
                   spec.max_rotation, spec.max_zoom)
    frame1 = _render(tex, place, size)
    frame2 = _render(tex, place @ np.linalg.inv(m_bg), size)
    flow = _affine_flow(m_bg, xx, yy)
    layer1 = np.zeros((h, w), np.int32)
    layer2 = np.zeros((h, w), np.int32)

    # Objects, each above the previous: cut from a photo, following the background and
    # adding a motion of their own about their centre.
    n_obj = int(rng.integers(spec.min_objects, spec.max_objects + 1))
    for k in range(1, n_obj + 1):
        radius = rng.uniform(0.12, 0.3) * min(h, w)
        vertices = _shape(rng, radius)
        centre = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        g1 = _affine(rng.uniform(0, 360), 1.0, np.zeros(2), centre)  # object -> frame 1
        own = _motion(rng, centre, spec.max_object_shift, spec.max_object_rotation,
                      spec.max_object_zoom)
        m_obj = m_bg @ own
        g2 = m_obj @ g1
        otex = _texture(rng, photos[int(rng.integers(len(photos)))], 2.6 * radius)
        to_tex = _affine(0, 1.0, np.zeros(2), np.array(otex.shape[1::-1]) / 2
                         + _disc(rng, 0.15 * min(otex.shape[:2])))
        for frame, layer, g in ((frame1, layer1, g1), (frame2, layer2, g2)):
            mask = _mask(vertices, g, size)
            frame[mask] = _render(otex, to_tex @ np.linalg.inv(g), size)[mask]
            layer[mask] = k
        mask1 = layer1 == k
        flow[mask1] = _affine_flow(m_obj, xx[mask1], yy[mask1])

    flow = flow.astype(np.float32)
    # Visible in frame 2: the layer frame 2 shows at p + flow(p) is the one p belongs to.
    tx, ty = xx + flow[..., 0], yy + flow[..., 1]
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    seen = cv2.remap(layer2.astype(np.float32), tx.astype(np.float32), ty.astype(np.float32),
                     cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=-1)
    valid = inside & (seen.astype(np.int32) == layer1)

    # The same colour change on both frames (the flow is unaffected), then sensor noise.
    gain = rng.uniform(0.85, 1.15, 3).astype(np.float32)
    offset = np.float32(rng.uniform(-12, 12))
    out = []
    for frame in (frame1, frame2):
        f = frame * gain + offset
        if spec.noise > 0:
            f += np.float32(spec.noise) * rng.standard_normal(f.shape, dtype=np.float32)
        out.append(round_codes(f))
    return SyntheticPair(out[0], out[1], flow, valid)
