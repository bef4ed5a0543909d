"""Every figure of the report in one call, and the report's figures section."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from wilddeblur.report.dataset_figure import dataset_figure
from wilddeblur.report.figures import (
    compute_residuals,
    extremes_figure,
    residual_scatter_figure,
    sample_pair_figure,
    with_blur_size,
)
from wilddeblur.report.plotting import Figure
from wilddeblur.report.real_blurry import demo_real_blurry, real_blurry_panel

FIGURE_FILES = {
    "dataset": "dataset.png",
    "pair": "fig2_pair.png",
    "residual_vs_blur": "fig9_residual_vs_blur.png",
    "extremes": "fig10_extremes.png",
    "real_blurry": "real_blurry.png",
}
RESIDUALS_CSV = "residuals.csv"
FIGURES_JSON = "figures.json"


def _plain(value):
    """JSON-safe: NaN → None, numpy scalars → Python."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def report_figures(out_dir: Path, selection: pd.DataFrame, manifest: pd.DataFrame,
                   shards: Mapping[str, Path], model: torch.nn.Module | None = None,
                   per_image: pd.DataFrame | None = None, method: str = "DeblurNetWILD",
                   device: torch.device | str = "cpu", tile: int | None = None,
                   n_extremes: int = 2, real_blurry: Sequence[tuple[str, np.ndarray]] | None = None,
                   max_side: int | None = 640) -> dict[str, Figure]:
    """Every figure of the report into ``out_dir`` (names in :data:`FIGURE_FILES`), plus
    ``residuals.csv`` (Fig. 9's table) and ``figures.json`` (captions and numbers).

    * dataset statistics from ``selection``; Fig. 2 from the train shards of ``manifest``
      (skipped when there is no train split);
    * with a ``model``: Figs. 9–10 on the test split, and the real-blurry panel (``real_blurry``:
      (name, RGB uint8) photos; default the scikit-image clock). The residuals are taken from
      ``per_image`` (evaluate's table) when it has a ``residual_l1`` column for ``method``,
      else computed here (one forward pass per test image); ``blur_size`` comes from
      ``manifest`` (joined on file, index).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figs = {"dataset": dataset_figure(selection, out_dir / FIGURE_FILES["dataset"])}
    train = sorted(manifest.loc[manifest["split"] == "train", "file"].unique())
    if train:
        figs["pair"] = sample_pair_figure([shards[f] for f in train],
                                          out_dir / FIGURE_FILES["pair"])
    if model is not None:
        test = sorted(manifest.loc[manifest["split"] == "test", "file"].unique())
        rows = None if per_image is None else per_image[per_image["method"] == method]
        if rows is not None and "residual_l1" in rows and len(rows):
            residuals = with_blur_size(rows, manifest)
        else:
            residuals = compute_residuals(model, [shards[f] for f in test], device, tile)
        fig9 = residual_scatter_figure(residuals, out_dir / FIGURE_FILES["residual_vs_blur"],
                                       method=method)
        fig9.table.to_csv(out_dir / RESIDUALS_CSV, index=False)
        figs["residual_vs_blur"] = fig9
        figs["extremes"] = extremes_figure(residuals, shards, model,
                                           out_dir / FIGURE_FILES["extremes"], n=n_extremes,
                                           device=device, tile=tile, method=method)
        figs["real_blurry"] = real_blurry_panel(
            real_blurry if real_blurry is not None else [demo_real_blurry()], model,
            out_dir / FIGURE_FILES["real_blurry"], device=device, tile=tile,
            max_side=max_side, method=method)
    summary = {name: {"file": fig.path.name, "caption": fig.caption, "stats": _plain(fig.stats)}
               for name, fig in figs.items()}
    (out_dir / FIGURES_JSON).write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    return figs


def figures_markdown(figs: dict[str, Figure], relative_to: Path) -> str:
    """A ``## Figures`` section for report.md: each image (path relative to the report) with
    its caption below it."""
    lines = ["## Figures", ""]
    for fig in figs.values():
        rel = Path(fig.path).resolve().relative_to(Path(relative_to).resolve())
        lines += [f"![{fig.caption.split(':')[0]}]({rel.as_posix()})", "", fig.caption, ""]
    return "\n".join(lines)
