"""§4: full-resolution evaluation on the test split, per image, with ``metrics`` conventions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from skimage.io import imsave
from tqdm import tqdm

from wilddeblur.dataset.shards import open_shard, shard_size
from wilddeblur.evaluation.inference import Deblurrer, deblur_array
from wilddeblur.evaluation.metrics import psnr, psnr_shift_tolerant, residual_l1, ssim, to_uint8


def evaluate(shards: list[Path], method: str, model: Deblurrer | None = None,
             device: torch.device | str = "cpu", examples_dir: Path | None = None,
             n_examples: int = 3, max_images: int | None = None,
             tile: int | None = None,
             restore: Callable[[np.ndarray, Path, int], np.ndarray] | None = None,
             images: Sequence[tuple[Path, int]] | None = None) -> pd.DataFrame:
    """Per-image PSNR/SSIM of ``method`` on every sample of ``shards``.

    ``model=None`` scores the blurry input itself (the ``blurry`` row of Table 2); ``tile``
    runs the model tile by tile (see :mod:`wilddeblur.evaluation.inference`). The first
    ``n_examples`` outputs are saved as PNG in ``examples_dir``. Columns: method, file, index,
    video, center, psnr, ssim, psnr_shift (best over shifts of ±3 px), psnr_float (PSNR before
    the 8-bit rounding).

    ``restore(blurry, shard, index)``, instead of a model, maps a blurry uint8 (H, W, 3) image
    to a float (H, W, 3) output in [0, 1] (clamped later), e.g. a classical baseline of
    :mod:`wilddeblur.evaluation.baselines`. ``images``: evaluate only these ``(shard, index)``
    pairs, in
    this order (default: every sample of ``shards``), before ``max_images``.
    """
    if restore is not None and model is not None:
        raise ValueError("evaluate: give a model or a restore function, not both")
    device = torch.device(device)
    rows = []
    if examples_dir is not None:
        Path(examples_dir).mkdir(parents=True, exist_ok=True)
    todo = (list(images) if images is not None
            else [(p, i) for p in shards for i in range(shard_size(p))])[:max_images]
    for n, (path, i) in enumerate(tqdm(todo, desc=f"evaluate {method}", unit="image",
                                        mininterval=2)):
        with open_shard(path) as f:
            blurry, sharp = f["blurry"][i], f["sharp"][i]
            video, center = f["video"][i], int(f["center"][i])
        if restore is not None:
            out_float = np.asarray(restore(blurry, Path(path), i), dtype=np.float32)
        else:
            out_float = (blurry.astype(np.float32) / 255 if model is None
                         else deblur_array(model, blurry, device, tile))
        rows.append({
            "method": method, "file": f"{Path(path).parent.name}/{Path(path).name}", "index": i,
            "video": video.decode() if isinstance(video, bytes) else video, "center": center,
            **score_image(out_float, sharp), "residual_l1": residual_l1(out_float, blurry),
        })
        if examples_dir is not None and n < n_examples:
            imsave(Path(examples_dir) / f"{n:03d}.png", to_uint8(out_float),
                   check_contrast=False)
    return pd.DataFrame(rows)


def score_image(out_float: np.ndarray, sharp: np.ndarray) -> dict[str, float]:
    """The metric columns for one output (float, [0, 1] scale, not clamped) against its uint8
    ground truth: psnr, ssim, psnr_shift on the 8-bit rounded output; psnr_float before it."""
    out = to_uint8(out_float)
    return {"psnr": psnr(out, sharp), "ssim": ssim(out, sharp),
            "psnr_shift": psnr_shift_tolerant(out, sharp),
            "psnr_float": psnr(np.clip(out_float, 0, 1), sharp.astype(np.float64) / 255, 1.0)}
