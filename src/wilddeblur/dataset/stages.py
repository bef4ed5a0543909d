"""The dataset stages as the workflow's scripts and the ``wilddeblur`` command call them:
select windows, average one shard, list the shards in a manifest, verify it, export it."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import pandas as pd

from wilddeblur.dataset.average import Averaging
from wilddeblur.dataset.export import export_dataset
from wilddeblur.dataset.interpolate import interpolate_window
from wilddeblur.dataset.select import (
    TIME,
    SelectionSettings,
    assign_shards,
    assign_splits,
    check_skipped,
    nothing_kept,
    select_windows,
    time_split,
    time_split_note,
)
from wilddeblur.dataset.shards import manifest, verify, write_shard
from wilddeblur.errors import SelectionError
from wilddeblur.fileio import write_csv_atomic, write_text_atomic
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.flow.stats import frame_fingerprints
from wilddeblur.video.downsample import downsampled_size
from wilddeblur.video.probe import VideoInfo
from wilddeblur.video.windows import VideoWindows


def select(flow_tables: Sequence[Path], probe_dir: Path, output: Path,
           settings: SelectionSettings, test_videos: Sequence[str] = (),
           test_fraction: float = 0.2, fixed_splits: dict[str, str] | None = None,
           samples_per_shard: int = 256, factor: int = 3) -> pd.DataFrame:
    """selection.csv: every window tried for every video (one flow table ``{video}.csv`` and
    one probe ``{video}.json`` in ``probe_dir`` each), kept or not, with its split and shard.

    One video alone is split in time (:func:`time_split`, said in the log). A flow table whose
    skipped pairs could pass ``settings`` is refused (:func:`check_skipped`). When a split keeps
    no window, the table goes to ``selection.failed.csv`` beside ``output`` instead, and
    :class:`SelectionError` says why, video by video.
    """
    flows = {Path(p).stem: Path(p) for p in flow_tables}
    splits = assign_splits(sorted(flows), list(test_videos), test_fraction, settings.seed,
                           dict(fixed_splits or {}))
    tables, sizes, fps, statistic = [], {}, {}, {}
    for video, path in sorted(flows.items()):
        info = VideoInfo.from_json(Path(probe_dir) / f"{video}.json")
        sizes[video], fps[video] = downsampled_size(info.width, info.height, factor), info.fps
        pairs = pd.read_csv(path)
        check_skipped(str(path), pairs, settings)
        stretches = {splits[video]: (0, len(pairs) + 1)}
        if splits[video] == TIME:
            train_end, test_start = time_split(len(pairs) + 1, test_fraction, settings.ne_max)
            stretches = {"train": (0, train_end), "test": (test_start, len(pairs) + 1)}
            print(time_split_note(video, len(pairs) + 1, train_end, test_start))
        for split, frames in stretches.items():
            table = select_windows(video, pairs, settings, frames)
            table["split"] = split
            tables.append(table)
            statistic[video, split] = pairs[settings.statistic].iloc[frames[0]:frames[1] - 1]
    selection = assign_shards(pd.concat(tables, ignore_index=True), sizes, samples_per_shard)
    failed = Path(output).with_name(f"{Path(output).stem}.failed.csv")
    why = nothing_kept(selection, statistic, fps, settings, factor)
    if why:
        write_csv_atomic(selection, failed)
        raise SelectionError(f"{why}\nEvery window tried: {failed}")
    failed.unlink(missing_ok=True)
    write_csv_atomic(selection, Path(output))
    for (split, video), grp in selection.groupby(["split", "video"]):
        print(f"{split:5s} {video}: kept {int(grp['kept'].sum())} of {len(grp)} windows")
    return selection


def average(selection_csv: Path, split: str, shard: int, probe_dir: Path, output: Path,
            settings_hash: str = "", averaging: Averaging | None = None, seed: int = 0,
            factor: int = 3, flow_dir: Path | None = None, interpolate: int = 1,
            flow: FlowSettings | None = None) -> None:
    """Shard ``shard`` of ``split``: the kept windows selection.csv assigns to it, averaged;
    with ``interpolate`` = k > 1, k − 1 frames are synthesised between consecutive frames first,
    from the flow of ``flow``'s backend (the selection's; DIS medium by default).

    Each of the shard's videos (found through its probe ``{video}.json`` in ``probe_dir``) is
    decoded once, up to the last frame the shard needs, and only those frames are scaled. With
    ``flow_dir`` (the flow tables ``{video}.csv``), decoding seeks to the shard's first frame
    and every frame is checked against its fingerprint.
    """
    sel = pd.read_csv(selection_csv)
    rows = sel[sel["kept"] & (sel["split"] == split) & (sel["shard"] == int(shard))]

    def source(video: str, windows: pd.DataFrame) -> VideoWindows:
        table = pd.read_csv(Path(flow_dir) / f"{video}.csv") if flow_dir else None
        prints = frame_fingerprints(table) if table is not None and "crc" in table else None
        return VideoWindows(VideoInfo.from_json(Path(probe_dir) / f"{video}.json"), factor,
                            list(zip(windows["start"], windows["ne"], strict=True)), prints)

    densify = None
    if interpolate > 1:
        backend = (flow or FlowSettings()).make_backend()
        densify = partial(interpolate_window, factor=interpolate, backend=backend)
        rows = rows.assign(interpolate_factor=interpolate)
    with ExitStack() as stack:
        sources = {video: stack.enter_context(source(video, grp))
                   for video, grp in rows.groupby("video")}
        write_shard(Path(output), rows, sources, settings_hash, averaging or Averaging(),
                    seed=seed, densify=densify)


def write_manifest(shards: Sequence[Path], output: Path) -> None:
    """manifest.csv beside the split folders: one row per sample, with each shard's checksum."""
    root = Path(output).parent
    write_csv_atomic(manifest([Path(p) for p in shards], root), Path(output))


def verify_manifest(manifest_csv: Path, output: Path | None = None) -> str:
    """Check every shard against the manifest; problems are printed and stop with an error,
    else the one-line result is printed (and written to ``output``)."""
    import sys

    problems = verify(Path(manifest_csv))
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        raise SystemExit(f"{len(problems)} problem(s) in {manifest_csv}")
    man = pd.read_csv(manifest_csv)
    message = (f"{manifest_csv}: every shard matches its checksum "
               f"({man['file'].nunique()} shards, {len(man)} samples)")
    print(message)
    if output:
        write_text_atomic(Path(output), message + "\n")
    return message


def export(manifest_csv: Path, out: Path, layout: str, split: str | None = None,
           force: bool = False) -> None:
    """The manifest's samples as PNG pairs in ``out`` (layout ``gopro`` or ``paired``)."""
    listing = export_dataset(Path(manifest_csv), Path(out), layout, split, force)
    counts = ", ".join(f"{n} {s}" for s, n in listing["split"].value_counts(sort=False).items())
    print(f"{out}: {len(listing)} pairs ({counts}) in the {layout} layout, listed in "
          f"{Path(out) / 'list.csv'}")
