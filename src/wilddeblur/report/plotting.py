"""Shared by every figure of the report: matplotlib's Agg backend, the figure record, and
writing a PNG atomically."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from wilddeblur.fileio import atomic_path  # noqa: E402

DPI = 110
SPLIT_COLORS = {"train": "tab:blue", "test": "tab:orange"}


@dataclass
class Figure:
    """A written figure: where it is, its caption, and the numbers the caption quotes."""

    path: Path
    caption: str
    stats: dict = field(default_factory=dict)
    table: pd.DataFrame | None = None


def save_figure(fig, out: Path) -> Path:
    """Write ``fig`` as a PNG, atomically, and close it."""
    out = Path(out)
    with atomic_path(out, ".tmp.png") as tmp:  # matplotlib reads the format from the suffix
        fig.savefig(tmp, dpi=DPI)
    plt.close(fig)
    return out


def busiest_window(blurry: np.ndarray, sharp: np.ndarray, size: int) -> tuple[int, int]:
    """Top-left corner of the ``size``² window where the blurry image differs most from the
    sharp one (where a few tenths of a dB become visible)."""
    err = np.abs(blurry.astype(np.float32) - sharp.astype(np.float32)).sum(axis=2)
    h, w = err.shape
    size = min(size, h, w)
    integral = np.pad(err.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = (integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size]
            + integral[:-size, :-size])
    y, x = np.unravel_index(np.argmax(sums), sums.shape)
    return int(y), int(x)
