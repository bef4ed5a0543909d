"""Dataset shards: ``results/dataset/{split}/shard-{k:05d}.h5`` and ``manifest.csv``.

Format (version 1): datasets ``blurry`` and ``sharp``, (N, H, W, 3) uint8 RGB, one image per
chunk, uncompressed (lossless filters save little on decoded video frames and slow reading and
writing, docs/scaling.md); per-sample metadata
datasets (video, start, ne, center, flow statistics, blur_size) and, only when the samples
carry them, the optional ones of ``OPTIONAL_META`` (``blur_region`` in every shard built from
a selection that has it); attributes ``format_version``,
``wilddeblur_version``, ``settings_hash``, ``averaging`` (and the noise and saturation settings
when on, :meth:`Averaging.attrs`). Writing is atomic (temp file,
then rename) and deterministic: a rebuild gives identical arrays.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import h5py
import numpy as np
import pandas as pd
from tqdm import tqdm

from wilddeblur import __version__
from wilddeblur.dataset.average import (
    PLAIN,
    Averaging,
    blurry_sharp_pair,
    clipped_fraction,
    draw_parameters,
)
from wilddeblur.errors import ShardError, SplitError
from wilddeblur.fileio import atomic_path

FORMAT_VERSION = 2  # 2: per-sample flow_region and match_err_local (issue 12)
META_COLUMNS = ["video", "start", "ne", "center", "flow_mean", "flow_p95", "flow_p99",
                "flow_region", "flow_max", "match_err", "match_err_local", "blur_size",
                "clipped_fraction"]
# per-sample columns written only when the samples carry them, read where a shard has them:
# blur_region (the moving part's blur, select.select_windows; shards written before it lack
# it), the parameters drawn for the optional noise and saturation (average.draw_parameters)
OPTIONAL_META = ["blur_region", "interpolate_factor", "noise_shot", "noise_read",
                 "saturation_alpha"]


def shard_path(root: Path, split: str, shard: int) -> Path:
    return Path(root) / split / f"shard-{shard:05d}.h5"


class WindowSource(Protocol):
    """Where a shard's frames come from: a video decoded again
    (:class:`wilddeblur.video.windows.VideoWindows`), or frames in memory."""

    def window(self, start: int, ne: int) -> np.ndarray: ...


def write_shard(path: Path, samples: pd.DataFrame, sources: Mapping[str, WindowSource],
                settings_hash: str, averaging: Averaging = PLAIN, seed: int = 0,
                densify: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
    """Build one shard from its rows of the selection table (ordered by ``index``), asking
    ``sources[video]`` for each window's frames; ``densify`` (frame interpolation,
    :func:`wilddeblur.dataset.interpolate.interpolate_window`) adds frames between them before
    averaging, the sharp image staying the central original frame.

    Optional noise and saturation are drawn per sample from (seed, video, start), and their
    parameters recorded: a rebuild is identical.
    """
    path = Path(path)
    samples = samples.sort_values("index").copy()
    samples["clipped_fraction"] = 0.0
    if samples.empty:
        raise ValueError(f"{path}: no sample is assigned to this shard")
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        dsets = {}
        for i, row in enumerate(tqdm(samples.itertuples(), total=len(samples),
                                     desc=f"shard {path.name}", mininterval=2)):
            frames = sources[row.video].window(row.start, row.ne)
            if frames.shape[0] != row.ne:
                raise ValueError(f"{path}: window {row.start}+{row.ne} of {row.video} runs past "
                                 f"its last frame")
            rng = np.random.default_rng([seed, zlib.crc32(row.video.encode()), row.start])
            drawn = draw_parameters(averaging, rng)
            blurry, sharp = blurry_sharp_pair(densify(frames) if densify else frames, averaging,
                                              rng, drawn)
            samples.loc[row.Index, ["clipped_fraction", *drawn]] = [clipped_fraction(frames),
                                                                    *drawn.values()]
            if not dsets:
                shape = (len(samples), *blurry.shape)
                for name in ("blurry", "sharp"):
                    dsets[name] = f.create_dataset(name, shape=shape, dtype=np.uint8,
                                                   chunks=(1, *blurry.shape))
            dsets["blurry"][i] = blurry
            dsets["sharp"][i] = sharp
        for col in meta_columns(samples):
            values = samples[col].to_numpy()
            if col == "video":
                f.create_dataset(col, data=values.astype(object), dtype=h5py.string_dtype())
            else:
                f.create_dataset(col, data=values)
        f.attrs.update({"format_version": FORMAT_VERSION, "wilddeblur_version": __version__,
                        "settings_hash": settings_hash, **averaging.attrs()})


def meta_columns(table) -> list[str]:
    """The metadata columns of a shard or sample table: ``META_COLUMNS``, then the optional
    ones it has."""
    return META_COLUMNS + [c for c in OPTIONAL_META if c in table]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def open_shard(path: Path) -> h5py.File:
    """Open a shard for reading; a missing, truncated or foreign file raises :class:`ShardError`."""
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ShardError(f"{path}: cannot be read as an HDF5 shard ({err})") from err
    if "blurry" not in f or "sharp" not in f or f.attrs.get("format_version") != FORMAT_VERSION:
        f.close()
        raise ShardError(f"{path}: not a wilddeblur shard of format {FORMAT_VERSION}")
    return f


def split_shards(manifest_csv: Path, split: str, required: bool = False) -> list[Path]:
    """The shards of ``split`` listed in a manifest CSV, as paths, in the manifest's order;
    with ``required``, none is an error naming the manifest."""
    table = pd.read_csv(manifest_csv)
    files = table.loc[table["split"] == split, "file"].drop_duplicates()
    if required and files.empty:
        raise SplitError(f"{manifest_csv}: no shard of split {split!r}")
    return [Path(manifest_csv).parent / f for f in files]


def shard_size(path: Path) -> int:
    """The number of samples in a shard."""
    with open_shard(path) as f:
        return int(f["blurry"].shape[0])


def manifest(shards: list[Path], root: Path) -> pd.DataFrame:
    """One row per sample: split, shard, index, its metadata, and the shard's sha256."""
    frames = []
    for path in shards:
        path = Path(path)
        with open_shard(path) as f:
            meta = pd.DataFrame({c: f[c][()] for c in meta_columns(f)})
        meta["video"] = meta["video"].map(lambda v: v.decode() if isinstance(v, bytes) else v)
        meta.insert(0, "index", np.arange(len(meta)))
        meta.insert(0, "shard", int(path.stem.split("-")[1]))
        meta.insert(0, "split", path.parent.name)
        meta["file"] = str(path.relative_to(root))
        meta["sha256"] = file_sha256(path)
        frames.append(meta)
    return pd.concat(frames, ignore_index=True)


def verify(manifest_csv: Path) -> list[str]:
    """Check every shard named in a manifest against its checksum; return the problems found."""
    man = pd.read_csv(manifest_csv)
    root = Path(manifest_csv).parent
    problems = []
    for file, grp in man.groupby("file"):
        path = root / file
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        if file_sha256(path) != grp["sha256"].iloc[0]:
            problems.append(f"{path}: checksum differs from the manifest (altered or truncated)")
            continue
        try:
            with open_shard(path) as f:
                if f["blurry"].shape[0] != len(grp):
                    problems.append(f"{path}: {f['blurry'].shape[0]} samples, manifest has "
                                    f"{len(grp)}")
        except ShardError as err:
            problems.append(str(err))
    return problems
