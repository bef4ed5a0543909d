"""The shards as folders of PNG pairs, where the field's tools read them.

* ``gopro``: ``OUT/<split>/<video>/blur/<name>.png`` and ``.../sharp/<name>.png``, GoPro_Large's
  layout (Nah et al. 2017): one folder per video, files named by the sharp (centre) frame's
  index, ``000123.png``; windows of a video that share a centre are told apart by their Ne,
  ``000123-ne09.png``.
* ``paired``: ``OUT/<split>/input/<video>_<name>.png`` and ``.../target/...``, the same names in
  both, unique across videos: BasicSR's ``PairedImageDataset`` (``dataroot_lq`` = input,
  ``dataroot_gt`` = target) and the input of NAFNet's and Restormer's preparation scripts.

Images are lossless PNG, pixel for pixel the shards' arrays. ``OUT/list.csv`` gives each pair's
paths (relative to OUT) with its manifest row. The export is written into a temp folder beside
OUT and renamed onto it when complete: a half-written export never looks finished.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pandas as pd
from PIL import Image
from tqdm import tqdm

from wilddeblur.dataset.shards import ShardError, open_shard
from wilddeblur.errors import WilddeblurError

LAYOUTS = ("gopro", "paired")
LIST_FILE = "list.csv"
FOLDERS = {"gopro": ("blur", "sharp"), "paired": ("input", "target")}
NEEDED_COLUMNS = ("split", "video", "center", "ne", "index", "file")


class ExportError(WilddeblurError, ValueError):
    """The manifest or the target folder does not allow an export; the message names it."""


def read_manifest(manifest_csv: Path, split: str | None = None) -> pd.DataFrame:
    """The manifest's rows (of ``split`` only, if given); a missing or foreign file, or no row,
    raises an error naming it."""
    manifest_csv = Path(manifest_csv)
    if not manifest_csv.is_file():
        raise ExportError(f"{manifest_csv}: no such file")
    try:
        man = pd.read_csv(manifest_csv)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ExportError(f"{manifest_csv}: cannot be read as a manifest ({err})") from err
    missing = [c for c in NEEDED_COLUMNS if c not in man.columns]
    if missing:
        raise ExportError(f"{manifest_csv}: not a dataset manifest (no column {missing})")
    if split is not None:
        man = man[man["split"] == split]
    if man.empty:
        raise ExportError(f"{manifest_csv}: no sample" + (f" of split {split!r}" if split else ""))
    return man.reset_index(drop=True)


def pair_paths(man: pd.DataFrame, layout: str) -> pd.DataFrame:
    """``blurry`` and ``sharp`` paths (relative to OUT) for each manifest row; names are
    checked to be unique."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    stem = man["center"].map("{:06d}".format)
    shared = man.duplicated(["split", "video", "center"], keep=False)
    stem = stem.where(~shared, stem + man["ne"].map("-ne{:02d}".format))
    blur, sharp = FOLDERS[layout]
    split, video = man["split"].astype(str), man["video"].astype(str)
    if layout == "gopro":
        paths = {"blurry": split + "/" + video + f"/{blur}/" + stem + ".png",
                 "sharp": split + "/" + video + f"/{sharp}/" + stem + ".png"}
    else:
        paths = {"blurry": split + f"/{blur}/" + video + "_" + stem + ".png",
                 "sharp": split + f"/{sharp}/" + video + "_" + stem + ".png"}
    table = pd.DataFrame(paths)
    twice = table["blurry"][table["blurry"].duplicated()]
    if not twice.empty:
        raise ExportError(f"two samples would be written to {twice.iloc[0]}")
    return table


def check_target(out: Path, force: bool) -> None:
    """Refuse an OUT that is not a folder, or a non-empty one without ``force``."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ExportError(f"{out}: exists and is not empty (force to replace it)")


def _beside(out: Path, suffix: str) -> Path:
    """A new hidden name in OUT's folder (``.OUT.<random>.<suffix>``)."""
    return out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.{suffix}")


def _replace(tmp: Path, out: Path) -> None:
    """Rename the finished ``tmp`` onto ``out``; an old ``out`` is removed only afterwards."""
    old = None
    if out.is_dir() and any(out.iterdir()):
        old = _beside(out, "old")
        os.replace(out, old)
    try:
        os.replace(tmp, out)  # onto an empty folder, or where none is
    except OSError:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old)


def _write_images(man: pd.DataFrame, paths: pd.DataFrame, root: Path, dest: Path,
                  desc: str) -> None:
    for folder in {str(Path(p).parent) for p in [*paths["blurry"], *paths["sharp"]]}:
        (dest / folder).mkdir(parents=True, exist_ok=True)
    # closed on an error too, so that the error starts a line of its own
    with tqdm(total=len(man), desc=desc, unit="pair", mininterval=2) as bar:
        for file, rows in man.groupby("file", sort=False):
            shard = root / file
            with open_shard(shard) as f:
                n = f["blurry"].shape[0]
                for i in rows.index:
                    index = int(man.at[i, "index"])
                    if not 0 <= index < n:
                        raise ShardError(f"{shard}: has {n} samples, the manifest asks for {index}")
                    try:
                        blurry, sharp = f["blurry"][index], f["sharp"][index]
                    except (OSError, KeyError) as err:
                        raise ShardError(f"{shard}: sample {index} cannot be read (truncated or "
                                         f"damaged: {err})") from err
                    Image.fromarray(blurry).save(dest / paths.at[i, "blurry"], format="PNG")
                    Image.fromarray(sharp).save(dest / paths.at[i, "sharp"], format="PNG")
                    bar.update()


def export_dataset(manifest_csv: Path, out: Path, layout: str, split: str | None = None,
                   force: bool = False) -> pd.DataFrame:
    """Write the samples of a manifest (of one split, or all) to ``out`` in ``layout``; return
    the list file's table. An existing non-empty ``out`` is refused unless ``force``, and then
    replaced only once the new export is complete."""
    manifest_csv, out = Path(manifest_csv), Path(out)
    man = read_manifest(manifest_csv, split)
    paths = pair_paths(man, layout)
    check_target(out, force)
    listing = pd.concat([man[["split"]], paths,
                         man.drop(columns="split").rename(columns={"file": "shard_file",
                                                                   "sha256": "shard_sha256"})],
                        axis=1)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _beside(out, "tmp")
    tmp.mkdir()
    try:
        _write_images(man, paths, manifest_csv.parent, tmp, f"export {out.name}")
        listing.to_csv(tmp / LIST_FILE, index=False)
        _replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return listing
