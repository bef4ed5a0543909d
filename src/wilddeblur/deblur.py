"""Deblur the user's own photos with a trained DeblurNet (any size)."""

from __future__ import annotations

from pathlib import Path

import torch
from skimage.io import imread, imsave
from tqdm import tqdm

from wilddeblur.evaluate import deblur_image
from wilddeblur.metrics import to_uint8

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


def image_paths(inputs: list[Path]) -> list[Path]:
    """Images named directly or found (sorted) in the given folders."""
    found = []
    for p in inputs:
        if p.is_dir():
            found += sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
        elif p.is_file():
            found.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    return found


def deblur_paths(inputs: list[Path], out_dir: Path, model: torch.nn.Module,
                 device: torch.device) -> list[Path]:
    """Deblur every image; write PNGs named after the inputs into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in tqdm(image_paths(inputs), desc="deblur", unit="image"):
        img = imread(path)
        if img.ndim == 2:
            img = img[..., None].repeat(3, axis=2)
        out = to_uint8(deblur_image(model, img[..., :3], device))
        dest = out_dir / f"{path.stem}.png"
        imsave(dest, out, check_contrast=False)
        written.append(dest)
    return written
