"""Flow backends behind one interface: ``backend(frame1, frame2) -> (H, W, 2)`` float32 pixels.

Convention everywhere: frames are H×W×3 uint8 RGB; ``flow[..., 0]`` is u (x), ``flow[..., 1]``
is v (y), from frame1 to frame2: frame1 at (x, y) shows what frame2 shows at (x+u, y+v).
The paper used FlowNet; the classical OpenCV backends need no weights.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from wilddeblur.errors import ConfigError

FlowBackend = Callable[[np.ndarray, np.ndarray], np.ndarray]

DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


def gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def dis(preset: str = "medium") -> FlowBackend:
    """OpenCV's Dense Inverse Search (Kroeger et al. 2016) on grayscale frames."""
    if preset not in DIS_PRESETS:
        raise ConfigError(f"flow.dis_preset: unknown preset {preset!r}; "
                          f"one of {sorted(DIS_PRESETS)}")
    engine = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])

    def run(frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
        return engine.calc(gray(frame1), gray(frame2), None)

    return run


def farneback() -> FlowBackend:
    """OpenCV's Farnebäck polynomial-expansion flow, with OpenCV's sample parameters."""

    def run(frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
        return cv2.calcOpticalFlowFarneback(gray(frame1), gray(frame2), None,
                                            0.5, 3, 15, 3, 5, 1.2, 0)

    return run


def flownet(family: str) -> Callable[..., FlowBackend]:
    """Factory for a pretrained FlowNet (Dosovitskiy et al. 2015) of ``family`` ("flownets" or
    "flownetc"); the exact architecture comes from the weights file. Imports torch lazily."""

    def factory(weights: str, device: str = "auto") -> FlowBackend:
        from wilddeblur.flow.flownet import flownet_backend

        return flownet_backend(weights, device, family=family)

    return factory


BACKENDS: dict[str, Callable[..., FlowBackend]] = {
    "dis": dis,
    "farneback": farneback,
    "flownets": flownet("flownets"),
    "flownetc": flownet("flownetc"),
}


def make_backend(name: str, **options) -> FlowBackend:
    """A flow backend by its config name (``flow.backend``)."""
    if name not in BACKENDS:
        raise ConfigError(f"flow.backend: unknown backend {name!r}; one of {sorted(BACKENDS)}")
    return BACKENDS[name](**options)
