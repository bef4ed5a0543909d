"""Real blurry photos without ground truth: input | DeblurNet output, and one such photo that
ships offline with scikit-image (the report's qualitative panel)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from wilddeblur.evaluation.external import (
    IMAGE_SUFFIXES,
    ExternalSetError,
    _images,
    area_downsample,
    read_rgb,
)
from wilddeblur.evaluation.inference import deblur_array
from wilddeblur.report.plotting import Figure, plt, save_figure


def demo_real_blurry() -> tuple[str, np.ndarray]:
    """A real motion-blurred photograph that ships with scikit-image (no download): a wall
    clock photographed while the camera moved roughly horizontally (``skimage.data.clock``,
    300×400 gray), replicated to RGB."""
    from skimage import data

    gray = data.clock()
    return "skimage-clock", np.repeat(gray[..., None], 3, axis=2)


def real_blurry_images(folder: Path | None) -> list[tuple[str, np.ndarray]]:
    """Every image in ``folder`` (sorted, not recursive) as (file name, RGB uint8); ``None``:
    the scikit-image clock. An empty folder raises :class:`ExternalSetError`."""
    if folder is None:
        return [demo_real_blurry()]
    folder = Path(folder)
    if not folder.is_dir():
        raise ExternalSetError(f"{folder}: no such folder of blurry photos")
    found = _images(folder)
    if not found:
        raise ExternalSetError(f"{folder}: no image ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return [(name, read_rgb(path)) for name, path in found.items()]


def real_blurry_panel(images: Sequence[tuple[str, np.ndarray]], model: torch.nn.Module,
                      out: Path, device: torch.device | str = "cpu", tile: int | None = None,
                      max_side: int | None = 640, method: str = "DeblurNetWILD") -> Figure:
    """Rows of input | ``method`` output for real blurry photos (no ground truth).

    A photo longer than ``max_side`` is first area-downsampled by the smallest integer factor
    that fits (DeblurNet learnt blur at the WILD scale, video frames downsampled ×3; it also
    bounds CPU time).
    """
    device = torch.device(device)
    rows, stats = [], []
    for name, img in images:
        factor = 1 if not max_side else max(1, -(-max(img.shape[:2]) // max_side))
        small = area_downsample(img, factor)
        start = time.perf_counter()
        output = np.clip(deblur_array(model, small, device, tile), 0, 1)
        stats.append({"name": name, "size": f"{img.shape[1]}x{img.shape[0]}", "factor": factor,
                      "seconds": round(time.perf_counter() - start, 2)})
        rows.append((name, small, output, factor))
    if not rows:
        raise ExternalSetError("no photo to show")
    width = 12.0
    heights = [width / 2 * s.shape[0] / s.shape[1] + 0.5 for _, s, _, _ in rows]
    fig, axes = plt.subplots(len(rows), 2, squeeze=False, figsize=(width, sum(heights)),
                             gridspec_kw={"height_ratios": heights})
    for ax_row, (name, small, output, factor) in zip(axes, rows, strict=True):
        scale = f", ↓{factor}" if factor > 1 else ""
        for ax, img, title in zip(ax_row, (small, output),
                                  (f"input: {name} ({small.shape[1]}×{small.shape[0]}{scale})",
                                   f"{method} output"), strict=True):
            ax.imshow(img)
            ax.set_title(title, fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    path = save_figure(fig, out)
    caption = (f"{method} on {len(rows)} real blurry photo(s) without ground truth "
               f"({', '.join(s['name'] for s in stats)}): input (left, area-downsampled where "
               f"longer than {max_side} px) and output (right).")
    return Figure(path, caption, {"images": stats})
