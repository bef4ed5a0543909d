"""The evaluation stages as the workflow's scripts and the ``wilddeblur`` command call them:
per-image PSNR/SSIM of a method on a split of the dataset, or on another authors' test set."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from wilddeblur.dataset.shards import split_shards
from wilddeblur.fileio import write_csv_atomic


def _model(checkpoint: Path | None, device: str):
    """The network of a checkpoint (``model.pt``, ``.pth`` or ``.onnx``) and its inputs' device."""
    from wilddeblur.deploy.onnx_runtime import load_network
    from wilddeblur.engine.device import pick_device

    return load_network(Path(checkpoint), device) if checkpoint else (None, pick_device(device))


def evaluate_split(manifest_csv: Path, output: Path, method: str, split: str = "test",
                   checkpoint: Path | None = None, device: str = "auto",
                   examples: Path | None = None, max_images: int | None = None,
                   tile: int | None = None) -> pd.DataFrame:
    """Per-image table of ``method`` (a checkpoint's model, or without one the blurry input)."""
    from wilddeblur.evaluation.evaluate import evaluate

    model, dev = _model(checkpoint, device)
    table = evaluate(split_shards(Path(manifest_csv), split), method, model, dev,
                     examples_dir=Path(examples) if examples else None,
                     max_images=max_images, tile=tile or None)
    write_csv_atomic(table, Path(output))
    print(f"{method}: {len(table)} images, PSNR {table['psnr'].mean():.3f} dB, "
          f"SSIM {table['ssim'].mean():.4f}")
    return table


def evaluate_external_set(output: Path, set_name: str, method: str,
                          gopro_root: Path | None = None, gopro_split: str = "test",
                          gopro_blur_dir: str = "blur", list_file: Path | None = None,
                          list_root: Path | None = None, list_order: str = "gt-blur",
                          checkpoint: Path | None = None, factor: int = 1,
                          device: str = "auto", tile: int | None = None,
                          max_images: int | None = None, examples: Path | None = None,
                          paired_root: Path | None = None) -> pd.DataFrame:
    """Per-image table of ``method`` on a GoPro-layout set, paired folders (split
    ``gopro_split``) or a list file's pairs."""
    from wilddeblur.evaluation.external import (
        evaluate_external,
        gopro_pairs,
        list_pairs,
        paired_pairs,
    )

    if gopro_root:
        pairs = gopro_pairs(Path(gopro_root), gopro_split, gopro_blur_dir)
    elif paired_root:
        pairs = paired_pairs(Path(paired_root), gopro_split)
    else:
        pairs = list_pairs(Path(list_file), Path(list_root) if list_root else None, list_order)
    model, dev = _model(checkpoint, device)
    table = evaluate_external(pairs, method, model, dev, tile or None, factor, max_images,
                              set_name, Path(examples) if examples else None)
    write_csv_atomic(table, Path(output))
    print(f"{set_name} {method}: {len(table)} images, PSNR {table['psnr'].mean():.3f} dB, "
          f"SSIM {table['ssim'].mean():.4f}")
    return table
