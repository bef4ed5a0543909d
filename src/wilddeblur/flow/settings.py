"""The flow stage's settings (config section ``flow``), importable without PyTorch."""

from __future__ import annotations

from dataclasses import dataclass

from wilddeblur.errors import ConfigError
from wilddeblur.flow.backends import FlowBackend, make_backend
from wilddeblur.flow.stats import BORDER_PX, EVIDENCE, REGION_PX


@dataclass(frozen=True)
class FlowSettings:
    backend: str = "dis"
    dis_preset: str = "medium"
    weights: str | None = None
    device: str = "auto"
    region_px: int = REGION_PX
    border_px: int = BORDER_PX
    skip: bool = True
    evidence: float = EVIDENCE

    def __post_init__(self) -> None:
        if not self.classical and not self.weights:
            raise ConfigError(f"flow.weights: the {self.backend} backend needs a weights file")
        if not self.evidence >= 0:
            raise ConfigError(f"flow.evidence must be 0 or more levels, got {self.evidence}")

    def make_backend(self) -> FlowBackend:
        """The backend these settings name."""
        options = {"dis": {"preset": self.dis_preset}, "farneback": {}}.get(
            self.backend, {"weights": self.weights, "device": self.device})
        return make_backend(self.backend, **options)

    def make_backends(self, threads: int) -> list[FlowBackend]:
        """One backend per thread for the classical backends (OpenCV's DIS and Farnebäck each
        run on one core), a single one for FlowNet (one model, one device)."""
        return [self.make_backend() for _ in range(max(1, threads) if self.classical else 1)]

    @property
    def classical(self) -> bool:
        """Whether the backend is one of OpenCV's (no weights, no PyTorch)."""
        return self.backend in ("dis", "farneback")
