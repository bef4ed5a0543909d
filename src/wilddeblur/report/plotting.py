"""Shared by every figure of the report: matplotlib's Agg backend, the figure record, and
writing a PNG atomically."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

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

