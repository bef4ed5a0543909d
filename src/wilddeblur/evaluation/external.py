"""Other authors' test sets and real blurry photos, read from disk (nothing is downloaded).

* **GoPro layout** (Nah et al. 2017): ``<root>/<split>/<sequence>/blur/*.png`` and
  ``.../sharp/*.png``, paired by file name (``blur_dir="blur_gamma"`` for the gamma version).
* **Paired folders** (BasicSR's ``PairedImageDataset``, ``wilddeblur export --layout paired``):
  ``<root>/<split>/input/*.png`` and ``.../target/*.png``, paired by file name.
* **List files** (RealBlur, Rim et al. 2020): one pair a line, ``gt_path blur_path``, relative
  to a root folder (default: the list file's folder); blank lines and ``#`` comments skipped.

:func:`evaluate_external` scores a method on such a set with the metrics and per-image columns
of :mod:`wilddeblur.evaluation.evaluate` (file = the blurry image's path relative to the set root,
index = position in the set, video = sequence or scene folder, center = -1, plus ``set``).
Real blurry photos without ground truth, for the report's panel:
:mod:`wilddeblur.report.real_blurry`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from skimage.io import imread, imsave  # noqa: E402
from tqdm import tqdm  # noqa: E402

from wilddeblur.errors import WilddeblurError
from wilddeblur.evaluation.evaluate import score_image  # noqa: E402
from wilddeblur.evaluation.inference import Deblurrer, deblur_array  # noqa: E402
from wilddeblur.evaluation.metrics import residual_l1, to_uint8  # noqa: E402

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


class ExternalSetError(WilddeblurError, ValueError):
    """A test set's layout is wrong, a pair is incomplete, or its images do not match; the
    message names the folder, list file (with line) or image concerned."""


@dataclass(frozen=True)
class Pair:
    """One blurry/sharp pair of an external set; ``name`` is unique within the set."""

    name: str
    blurry: Path
    sharp: Path
    group: str


def _images(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES}


def _matched(blur_folder: Path, sharp_folder: Path) -> list[tuple[str, Path, Path]]:
    """(file name, blurry, sharp) of two folders paired by file name; an image without its
    partner raises :class:`ExternalSetError` naming both paths."""
    for folder in (blur_folder, sharp_folder):
        if not folder.is_dir():
            raise ExternalSetError(f"{folder}: missing (needs both {blur_folder.name}/ and "
                                   f"{sharp_folder.name}/)")
    blurs, sharps = _images(blur_folder), _images(sharp_folder)
    for name in sorted(set(blurs) ^ set(sharps)):
        have, lack = (blur_folder, sharp_folder) if name in blurs else (sharp_folder, blur_folder)
        raise ExternalSetError(f"{lack / name}: missing; {have / name} has no partner")
    return [(name, blurs[name], sharps[name]) for name in sorted(blurs)]


def paired_pairs(root: Path, split: str = "test", input_dir: str = "input",
                 target_dir: str = "target") -> list[Pair]:
    """Pairs of paired folders: every ``<root>/<split>/<input_dir>/x`` with its
    ``<target_dir>/x`` (group: the split). Errors as :func:`gopro_pairs`."""
    base = Path(root) / split
    if not base.is_dir():
        raise ExternalSetError(f"{base}: missing; a paired set has "
                               f"<root>/{split}/{input_dir}|{target_dir}/*.png")
    pairs = [Pair(name, blurry, sharp, split)
             for name, blurry, sharp in _matched(base / input_dir, base / target_dir)]
    if not pairs:
        raise ExternalSetError(f"{base / input_dir}: no image in it")
    return pairs


def gopro_pairs(root: Path, split: str = "test", blur_dir: str = "blur",
                sharp_dir: str = "sharp") -> list[Pair]:
    """Pairs of a GoPro-layout set: every ``<root>/<split>/<seq>/<blur_dir>/x`` with its
    ``<sharp_dir>/x``. A missing folder, an image without its partner or an empty set raises
    :class:`ExternalSetError` naming the path."""
    root = Path(root)
    base = root / split
    if not root.is_dir():
        raise ExternalSetError(f"{root}: no such folder (GoPro-layout test set root)")
    if not base.is_dir():
        raise ExternalSetError(f"{base}: missing; a GoPro-layout set has "
                               f"<root>/{split}/<sequence>/{blur_dir}|{sharp_dir}/*.png")
    sequences = sorted(p for p in base.iterdir() if p.is_dir())
    if not sequences:
        raise ExternalSetError(f"{base}: no sequence folder in it")
    pairs = []
    for seq in sequences:
        pairs += [Pair(f"{seq.name}/{name}", blurry, sharp, seq.name)
                  for name, blurry, sharp in _matched(seq / blur_dir, seq / sharp_dir)]
    if not pairs:
        raise ExternalSetError(f"{base}: no image in any {blur_dir}/ folder")
    return pairs


def list_pairs(list_file: Path, root: Path | None = None, order: str = "gt-blur") -> list[Pair]:
    """Pairs of a list file (RealBlur: ``gt_path blur_path`` a line, ``order="gt-blur"``;
    ``"blur-gt"`` for the other way round), paths relative to ``root`` (default: the list
    file's folder). A malformed line or a missing image raises :class:`ExternalSetError`
    naming the list file, the line number and the path."""
    list_file = Path(list_file)
    if order not in ("gt-blur", "blur-gt"):
        raise ValueError(f"order must be 'gt-blur' or 'blur-gt', got {order!r}")
    if not list_file.is_file():
        raise ExternalSetError(f"{list_file}: no such list file")
    root = Path(root) if root is not None else list_file.parent
    pairs, seen = [], set()
    for number, line in enumerate(list_file.read_text().splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        where = f"{list_file}:{number}"
        if len(fields) != 2:
            raise ExternalSetError(f"{where}: expected 2 paths ({order.replace('-', ' ')}), "
                                   f"found {len(fields)}: {line.strip()!r}")
        gt, blur = fields if order == "gt-blur" else fields[::-1]
        for rel in (blur, gt):
            if not (root / rel).is_file():
                raise ExternalSetError(f"{where}: {root / rel}: no such image")
        if blur in seen:
            raise ExternalSetError(f"{where}: {blur} is listed twice")
        seen.add(blur)
        parent = Path(blur).parent
        group = parent.parent.name if parent.name.lower() in {"blur", "blurry", "input"} \
            else parent.name
        pairs.append(Pair(blur, root / blur, root / gt, group or "."))
    if not pairs:
        raise ExternalSetError(f"{list_file}: lists no pair")
    return pairs


def read_rgb(path: Path) -> np.ndarray:
    """An image file as H×W×3 uint8 RGB (gray replicated, alpha dropped, 16 bit scaled)."""
    try:
        img = imread(path)
    except Exception as err:  # any reader error, reported with the path
        raise ExternalSetError(f"{path}: cannot be read as an image ({err})") from err
    if img.dtype == np.uint16:
        img = np.rint(img / 257.0).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise ExternalSetError(f"{path}: {img.dtype} pixels; 8- or 16-bit images only")
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    elif img.ndim == 3 and img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ExternalSetError(f"{path}: shape {img.shape} is not an RGB or gray image")
    return np.ascontiguousarray(img)


def area_downsample(img: np.ndarray, factor: int) -> np.ndarray:
    """Mean over ``factor``×``factor`` blocks (the operator of §2 step 1), edges cropped."""
    if factor == 1:
        return img
    h, w = (img.shape[0] // factor) * factor, (img.shape[1] // factor) * factor
    blocks = img[:h, :w].reshape(h // factor, factor, w // factor, factor, -1)
    return np.rint(blocks.astype(np.float64).mean(axis=(1, 3))).astype(np.uint8)


def load_pairs(pairs: Iterable[Pair], factor: int = 1
               ) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(name, blurry, sharp) uint8 RGB for each pair, both area-downsampled by ``factor``
    (3 brings 1280×720 GoPro frames to the WILD scale). Different sizes raise
    :class:`ExternalSetError` naming both files."""
    for pair in pairs:
        blurry, sharp = read_rgb(pair.blurry), read_rgb(pair.sharp)
        if blurry.shape != sharp.shape:
            raise ExternalSetError(f"{pair.blurry} is {blurry.shape[1]}×{blurry.shape[0]} but "
                                   f"{pair.sharp} is {sharp.shape[1]}×{sharp.shape[0]}")
        yield pair.name, area_downsample(blurry, factor), area_downsample(sharp, factor)


def evaluate_external(pairs: Sequence[Pair], method: str, model: Deblurrer | None = None,
                      device: torch.device | str = "cpu", tile: int | None = None,
                      factor: int = 1, max_images: int | None = None, set_name: str = "external",
                      examples_dir: Path | None = None, n_examples: int = 3) -> pd.DataFrame:
    """Per-image PSNR/SSIM of ``method`` on an external set (``model=None``: the blurry input).

    Columns as :func:`wilddeblur.evaluation.evaluate.evaluate` (method, file, index, video,
    center, psnr,
    ssim, psnr_shift, psnr_float) plus ``set`` and ``residual_l1`` (as in
    :func:`wilddeblur.report.figures.residual_l1`); ``report.summarise`` accepts the table as it is.
    """
    device = torch.device(device)
    pairs = list(pairs)[:max_images]
    by_name = {p.name: p for p in pairs}
    if examples_dir is not None:
        Path(examples_dir).mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (name, blurry, sharp) in enumerate(tqdm(load_pairs(pairs, factor), total=len(pairs),
                                                   desc=f"{set_name} {method}", unit="image",
                                                   mininterval=2)):
        out_float = (blurry.astype(np.float32) / 255 if model is None
                     else deblur_array(model, blurry, device, tile))
        rows.append({"method": method, "file": name, "index": i, "video": by_name[name].group,
                     "center": -1, **score_image(out_float, sharp), "set": set_name,
                     "residual_l1": residual_l1(out_float, blurry)})
        if examples_dir is not None and i < n_examples:
            imsave(Path(examples_dir) / f"{i:03d}.png", to_uint8(out_float),
                   check_contrast=False)
    return pd.DataFrame(rows)


def summarise_external(per_image: pd.DataFrame) -> pd.DataFrame:
    """One row per (set, method): n_images and the mean of each metric (as Table 2)."""
    return (per_image.groupby(["set", "method"], sort=False)
            .agg(n_images=("psnr", "size"), psnr=("psnr", "mean"), ssim=("ssim", "mean"),
                 psnr_shift=("psnr_shift", "mean"), psnr_float=("psnr_float", "mean"))
            .reset_index())
