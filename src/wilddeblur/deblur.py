"""Deblur the user's own photos and videos with a trained DeblurNet (any size, tiled)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from skimage.io import imread, imsave
from tqdm import tqdm

from wilddeblur.inference import deblur_array
from wilddeblur.metrics import to_uint8
from wilddeblur.probe import probe
from wilddeblur.videoio import decode_frames, encode_h264, finish

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"}


def image_paths(inputs: list[Path]) -> list[Path]:
    """Images and videos named directly or found (sorted) in the given folders."""
    found = []
    for p in inputs:
        if p.is_dir():
            found += sorted(q for q in p.iterdir()
                            if q.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES)
        elif p.is_file():
            found.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    return found


def deblur_video(path: Path, dest: Path, model: torch.nn.Module, device: torch.device,
                 tile: int | None = None) -> None:
    """Deblur every frame of a video at its own size; H.264 out, the audio copied over."""
    info = probe(path, warn_fps=0)
    tmp = dest.with_name(dest.name + ".tmp")
    proc = encode_h264(tmp, info.width, info.height, info.fps, crf=16, audio_from=path)
    assert proc.stdin is not None
    try:
        with tqdm(total=info.frames, desc=f"deblur {path.name}", unit="frame") as bar:
            for chunk in decode_frames(path, info.width, info.height, chunk=8):
                for frame in chunk:
                    out = to_uint8(deblur_array(model, frame, device, tile))
                    proc.stdin.write(out.tobytes())
                    bar.update(1)
        finish(proc, tmp)
        os.replace(tmp, dest)
    finally:
        if proc.poll() is None:
            proc.kill()
        tmp.unlink(missing_ok=True)


def deblur_paths(inputs: list[Path], out_dir: Path, model: torch.nn.Module,
                 device: torch.device, tile: int | None = None) -> list[Path]:
    """Deblur every image (→ PNG) and video (→ MP4) into ``out_dir``, named after the inputs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in image_paths(inputs):
        if path.suffix.lower() in VIDEO_SUFFIXES:
            dest = out_dir / f"{path.stem}.mp4"
            deblur_video(path, dest, model, device, tile)
        else:
            img = imread(path)
            if img.ndim == 2:
                img = img[..., None].repeat(3, axis=2)
            dest = out_dir / f"{path.stem}.png"
            imsave(dest, to_uint8(deblur_array(model, img[..., :3], device, tile)),
                   check_contrast=False)
        written.append(dest)
    return written
