"""Deblur the user's own photos and videos with a trained network (any size, tiled)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from skimage.io import imread, imsave
from tqdm import tqdm

from wilddeblur.errors import CheckpointError, ConfigError, VideoError
from wilddeblur.evaluation.inference import Deblurrer, deblur_array
from wilddeblur.evaluation.metrics import to_uint8
from wilddeblur.fileio import atomic_path
from wilddeblur.video.io import add_audio, decode_frames, encode_h264, finish
from wilddeblur.video.probe import probe

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"}
# H.264 output: container formats by suffix
VIDEO_CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
DEFAULT_CHECKPOINT = Path("results/train/DeblurNetWILD/model.pt")


def default_checkpoint(given: str | None) -> Path:
    """``--checkpoint``, or else the workflow's trained DeblurNetWILD (relative to here)."""
    if given:
        return Path(given)
    if DEFAULT_CHECKPOINT.is_file():
        return DEFAULT_CHECKPOINT
    raise CheckpointError(f"no --checkpoint given, and {DEFAULT_CHECKPOINT} does not exist "
                          "here (run the workflow first, or name a model.pt)")


def image_paths(inputs: list[Path]) -> list[tuple[Path, Path]]:
    """(input, output path relative to ``-o``) for the images and videos named directly or found
    (sorted) in the given folders: a file given directly keeps its own name, one found in a
    folder keeps that folder's name above it (``blur/x.png`` -> ``blur/x.png``), so that two
    folders holding the same names never share an output."""
    found = []
    for p in inputs:
        if p.is_dir():
            sub = Path(p.resolve().name)  # "" for "/": straight into -o
            found += [(q, sub / q.name) for q in sorted(p.iterdir())
                      if q.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES]
        elif p.is_file():
            found.append((p, Path(p.name)))
        else:
            raise VideoError(f"{p}: no such file or folder")
    return found


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def plan_outputs(inputs: list[Path], output: Path,
                 force: bool = False) -> list[tuple[Path, Path]]:
    """(input, output file) pairs. ``output`` is the file itself when it has an image or video
    suffix and one input file is given; otherwise a folder, outputs named after the inputs
    (images -> PNG, videos -> MP4) under their folder's name (:func:`image_paths`). Refused
    before anything is written: two inputs with one output (``x.jpg`` beside ``x.png``), and,
    unless ``force``, an output that exists already."""
    paths = [p for p, _ in image_paths(inputs)]
    suffix = output.suffix.lower()
    if suffix in IMAGE_SUFFIXES | VIDEO_SUFFIXES and not output.is_dir():
        if len(inputs) != 1 or len(paths) != 1 or inputs[0].is_dir():
            raise ConfigError(f"-o {output} names a file, but {len(paths)} input(s) are given; "
                              "name a folder")
        if is_video(paths[0]) != (suffix in VIDEO_SUFFIXES):
            kind = "a video" if is_video(paths[0]) else "an image"
            raise ConfigError(f"-o {output}: {paths[0]} is {kind}; give an output of that kind")
        if suffix in VIDEO_SUFFIXES and suffix not in VIDEO_CONTAINERS:
            raise ConfigError(f"-o {output}: videos are written as H.264 in "
                              f"{', '.join(sorted(VIDEO_CONTAINERS))}")
        plan = [(paths[0], output)]
    else:
        plan = [(p, output / rel.with_suffix(".mp4" if is_video(p) else ".png"))
                for p, rel in image_paths(inputs)]
    check_plan(plan, force)
    return plan


def check_plan(plan: list[tuple[Path, Path]], force: bool) -> None:
    """One line, before anything is written, for outputs that two inputs share or (unless
    ``force``) that exist already."""
    first: dict[Path, Path] = {}
    for src, dest in plan:
        key = dest.resolve()
        if key in first:
            raise ConfigError(f"{first[key]} and {src} would both be written to {dest}; "
                              "give them separately with different -o")
        first[key] = src
    existing = [dest for _, dest in plan if dest.exists()]
    if existing and not force:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise ConfigError(f"{existing[0]}{more} exists already; give --force to overwrite, "
                          "or another -o")


def deblur_video(path: Path, dest: Path, model: Deblurrer, device: torch.device,
                 tile: int | None = None) -> None:
    """Deblur every frame of a video at its own size; H.264 out, with the audio copied, or
    encoded as AAC where the container cannot hold it, or left out with a warning where
    neither works (:func:`add_audio`): the video is always written."""
    info = probe(path, warn_fps=0)
    container = VIDEO_CONTAINERS.get(dest.suffix.lower(), "mp4")
    with atomic_path(dest) as tmp:
        silent = tmp.with_name(tmp.name + ".video")  # the frames, before the audio joins them
        proc = encode_h264(silent, info.width, info.height, info.stream_fps or info.fps, crf=16,
                           container=container)
        assert proc.stdin is not None
        try:
            with tqdm(total=info.frames, desc=f"deblur {path.name}", unit="frame") as bar:
                for chunk in decode_frames(path, info.width, info.height, chunk=8):
                    for frame in chunk:
                        out = to_uint8(deblur_array(model, frame, device, tile))
                        proc.stdin.write(out.tobytes())
                        bar.update(1)
            finish(proc, silent)
            warning = add_audio(silent, path, tmp, container)
        finally:
            if proc.poll() is None:
                proc.kill()
            silent.unlink(missing_ok=True)
    if warning:
        warnings.warn(warning, stacklevel=2)


def deblur_paths(plan: list[tuple[Path, Path]], model: Deblurrer,
                 device: torch.device, tile: int | None = None) -> list[Path]:
    """Deblur each input into its output file (a :func:`plan_outputs` plan); the files
    written, each checked to be there."""
    written = []
    for path, dest in plan:
        if is_video(path):
            deblur_video(path, dest, model, device, tile)
        else:
            img = imread(path)
            if img.ndim == 2:
                img = img[..., None].repeat(3, axis=2)
            with atomic_path(dest, ".tmp.png") as tmp:
                imsave(tmp, to_uint8(deblur_array(model, img[..., :3], device, tile)),
                       check_contrast=False)
        written.append(dest)
    there = {d.resolve() for d in written if d.is_file()}
    if len(there) != len(plan):
        raise VideoError(f"-o {plan[0][1].parent}: {len(plan)} output(s) planned, "
                         f"{len(there)} written")
    return written
