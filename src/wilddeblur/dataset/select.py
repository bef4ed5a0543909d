"""§2 steps 2–4: choose windows of Ne frames whose motion is small enough to average.

For each video, windows are placed greedily from the first frame. Each candidate draws its Ne,
a random odd number in [ne_min, ne_max] (paper: [7, 23]), from a generator seeded by the
config seed and the video name (so adding a video never changes another video's samples).
A window is kept when every consecutive pair inside it has the chosen flow statistic at most
``threshold`` pixels (paper: 1 px; with ``interpolate`` = k > 1, k × ``threshold``: each of the
k interpolated steps between two frames then moves at most ``threshold``) and a matching error
at most ``max_match_err`` (and, when set, a local matching error at most
``max_match_err_local``); the next
candidate then starts after it (``stride`` = Ne, no overlap) or ``stride`` frames later.
A rejected window is recorded with its reason, and the next candidate starts just after its
last failing pair (any window starting earlier would contain that pair too).

``guard_pairs`` (not in the paper): pairs within that many pairs of one over the threshold fail
too. Motion is smooth (the assumption of §2 step 3), and DIS medium underestimates a small
object by up to half while it speeds up or slows down through the threshold, so without the
guard such pairs are kept (``benchmarks/selection_accuracy.py``; docs/results.md, *Selection*).
"""

from __future__ import annotations

import fnmatch
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wilddeblur.errors import ConfigError, SplitError
from wilddeblur.flow.skip import SkipRule
from wilddeblur.flow.stats import STATISTICS


@dataclass(frozen=True)
class SelectionSettings:
    statistic: str = "region"
    threshold: float = 1.0
    max_match_err: float = 0.1
    max_match_err_local: float | None = None
    guard_pairs: int = 4
    ne_min: int = 7
    ne_max: int = 23
    stride: int | None = None
    max_windows_per_video: int | None = None
    seed: int = 0
    interpolate: int = 1  # interpolate.factor: k - 1 frames synthesised between consecutive ones

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise ConfigError(f"select.statistic: {self.statistic!r} is not one of {STATISTICS}")
        if self.ne_min % 2 == 0 or self.ne_max % 2 == 0 or not 1 <= self.ne_min <= self.ne_max:
            raise ConfigError(f"select.ne_min/ne_max must be odd with ne_min <= ne_max, got "
                              f"{self.ne_min}, {self.ne_max}")
        if self.interpolate < 1:
            raise ConfigError(f"interpolate.factor must be at least 1, got {self.interpolate}")

    @property
    def usable_px(self) -> float:
        """The largest motion of an original pair a window may hold: each of the k interpolated
        steps between its frames then moves at most ``threshold`` (k = 1: §2 step 3's rule)."""
        return self.threshold * self.interpolate

    @property
    def skip_rule(self) -> SkipRule:
        """The flow check as the flow stage skips pairs by (flow.skip)."""
        return SkipRule(self.statistic, self.usable_px, self.guard_pairs)


def check_skipped(path: str, pairs: pd.DataFrame, s: SelectionSettings) -> None:
    """Refuse a flow table whose skipped pairs (flow.skip) could pass these settings' flow
    check: one skipped under another statistic, a smaller usable motion or a longer guard."""
    rule = SkipRule.of_table(pairs)
    if rule and not rule.covers(s.skip_rule):
        raise ConfigError(
            f"{path}: {int(pairs['skipped'].sum())} pairs were skipped (flow.skip) under "
            f"{rule.describe()}, but select.statistic, select.threshold x interpolate.factor "
            f"and select.guard_pairs now ask for {s.skip_rule.describe()}, under which a "
            "skipped pair could pass; run the flow again (or set flow.skip: false)")


def guarded(ok: np.ndarray, guard: int) -> np.ndarray:
    """``ok`` with every pair within ``guard`` pairs of a failing one failing too."""
    bad = ~ok
    out = bad.copy()
    for k in range(1, guard + 1):
        out[k:] |= bad[:-k]
        out[:-k] |= bad[k:]
    return ~out


def video_rng(seed: int, video: str) -> np.random.Generator:
    """A generator that depends only on the config seed and the video's name."""
    return np.random.default_rng([seed, zlib.crc32(video.encode())])


def draw_ne(rng: np.random.Generator, ne_min: int, ne_max: int) -> int:
    """A random odd number in [ne_min, ne_max], uniform over the odd numbers (§2 step 2)."""
    return 2 * int(rng.integers(ne_min // 2, ne_max // 2 + 1)) + 1


def select_windows(video: str, pairs: pd.DataFrame, s: SelectionSettings,
                   frames: tuple[int, int] | None = None) -> pd.DataFrame:
    """Kept and rejected windows of one video from its per-pair flow table, within the frames
    ``[first, end)`` of ``frames`` (default: all; each stretch draws its Ne afresh).

    Columns: video, start, ne, center, kept, reason ('' | 'flow' | 'matching'), the worst value
    over the window's pairs of each flow statistic and of the two matching errors, ``blur_size``
    (sum over the window of the pairs' mean flow magnitude: the length, in downsampled pixels,
    of the average motion path the blurry image integrates) and ``blur_region`` (the sum of
    the pairs' ``region`` statistic: the path length of what moves, which a still camera's
    frame-wide mean dilutes). Pairs the flow stage skipped (NaN) fail the flow check; a window
    holding one has NaN for these.
    """
    first, n_frames = frames or (0, len(pairs) + 1)
    flow_ok = guarded((pairs[s.statistic] <= s.usable_px).to_numpy(), s.guard_pairs)
    match_ok = (pairs["match_err"] <= s.max_match_err).to_numpy()
    if s.max_match_err_local is not None:
        match_ok = match_ok & (pairs["match_err_local"] <= s.max_match_err_local).to_numpy()
    rng = video_rng(s.seed, video)
    rows, start, kept = [], first, 0
    while s.max_windows_per_video is None or kept < s.max_windows_per_video:
        ne = draw_ne(rng, s.ne_min, s.ne_max)
        if start + ne > n_frames:
            break
        window = slice(start, start + ne - 1)  # the ne - 1 pairs inside the window
        bad = ~(flow_ok[window] & match_ok[window])
        reason = "flow" if not flow_ok[window].all() else ("matching" if bad.any() else "")
        stats = pairs.iloc[window]
        rows.append({
            "video": video, "start": start, "ne": ne, "center": start + ne // 2,
            "kept": not reason, "reason": reason,
            **{f"flow_{k}": stats[k].max(skipna=False) for k in STATISTICS},
            "match_err": stats["match_err"].max(skipna=False),
            "match_err_local": stats["match_err_local"].max(skipna=False),
            "blur_size": stats["mean"].sum(skipna=False),
            "blur_region": stats["region"].sum(skipna=False),
        })
        if reason:
            start += int(np.flatnonzero(bad)[-1]) + 1
        else:
            kept += 1
            start += s.stride or ne
    return pd.DataFrame(rows, columns=SELECTION_COLUMNS[:-4])


SELECTION_COLUMNS = [
    "video", "start", "ne", "center", "kept", "reason",
    *(f"flow_{k}" for k in STATISTICS), "match_err", "match_err_local", "blur_size",
    "blur_region", "split", "shard", "index", "size",
]


TIME = "time"  # assign_splits' split of a video alone: a training stretch, then a test one


def split_in_time(videos: list[str], test_patterns: list[str],
                  fixed: dict[str, str] | None = None) -> bool:
    """Whether the one input video is split in time (no pattern, no fixed split)."""
    return len(videos) == 1 and not test_patterns and not fixed


def check_splits(videos: list[str], test_patterns: list[str], test_fraction: float,
                 fixed: dict[str, str] | None = None) -> str | None:
    """Before any decoding: raise :class:`SplitError` (naming the key) when the train or the
    test split would have no video; return a note when the one video is split in time."""
    if fixed:
        return None
    if split_in_time(videos, test_patterns):
        if test_fraction == 0:
            raise SplitError(f"split.test_fraction is 0, and {videos[0]} is the only video: no "
                             "test split; set split.test_fraction (0.2: its last fifth)")
        return (f"{videos[0]} is the only input video and split.test_videos is empty: its last "
                f"{test_fraction:.0%} of frames (split.test_fraction) form the test split, after "
                "a gap of select.ne_max frames; the test images come from the same scene as the "
                "training images (the paper splits by video)")
    if test_patterns:
        test = [v for v in videos if any(fnmatch.fnmatch(v, p) for p in test_patterns)]
        listed = f"{', '.join(map(repr, test_patterns))}"
        if not test:
            raise SplitError(f"split.test_videos: {listed} matches no input video "
                             f"({', '.join(videos)}); name a test video, or leave it empty")
        if len(test) == len(videos):
            raise SplitError(f"split.test_videos: {listed} matches every input video "
                             f"({', '.join(videos)}); none is left for training")
    return None


def time_split(n_frames: int, test_fraction: float, gap: int) -> tuple[int, int]:
    """``(train_end, test_start)``: frames ``[0, train_end)`` train, ``[test_start, n_frames)``
    test (its last ``test_fraction``), and the ``gap`` frames between them unused, so that no
    test window is next to a training window."""
    test_start = n_frames - round(test_fraction * n_frames)
    return max(test_start - gap, 0), test_start


def time_split_note(video: str, n_frames: int, train_end: int, test_start: int) -> str:
    """What a time split does with a video's frames, for the log."""
    return (f"{video} is split in time (the only video, no split.test_videos): frames "
            f"0-{train_end - 1} train, {train_end}-{test_start - 1} unused (a gap of at least "
            f"one window), {test_start}-{n_frames - 1} test")


def time_split_notes(selection: pd.DataFrame) -> list[str]:
    """One line per video with windows in both splits (a video split in time), with the
    frames each split's windows span."""
    notes = []
    for video, grp in selection.groupby("video"):
        if grp["split"].nunique() < 2:
            continue
        spans = {split: (int(g["start"].min()), int((g["start"] + g["ne"]).max()) - 1)
                 for split, g in grp.groupby("split")}
        notes.append(f"{video} is split in time (the only video, no split.test_videos): "
                     + "; ".join(f"{split} windows in frames {a}-{b}"
                                 for split, (a, b) in sorted(spans.items(), reverse=True))
                     + ". Its test images come from the same scene as its training images.")
    return notes


def assign_splits(videos: list[str], test_patterns: list[str], test_fraction: float,
                  seed: int, fixed: dict[str, str] | None = None) -> dict[str, str]:
    """Split by video (§2): names matching ``test_patterns`` (globs) are test; with no pattern,
    a seeded ``test_fraction`` of the videos (at least one when there are two or more); one
    video alone is split in time (:data:`TIME`, :func:`time_split`)."""
    fixed = fixed or {}
    if split_in_time(videos, test_patterns, fixed):
        return {videos[0]: TIME}
    if test_patterns:
        return {v: fixed.get(v) or ("test" if any(fnmatch.fnmatch(v, p) for p in test_patterns)
                                    else "train") for v in videos}
    free = sorted(v for v in videos if v not in fixed)
    n_test = round(test_fraction * len(free))
    if len(free) >= 2:
        n_test = min(max(n_test, 1), len(free) - 1)
    rng = np.random.default_rng([seed, 7])
    test = set(rng.permutation(free)[:n_test]) if n_test else set()
    return {v: fixed.get(v) or ("test" if v in test else "train") for v in videos}


def assign_shards(windows: pd.DataFrame, sizes: dict[str, tuple[int, int]],
                  per_shard: int) -> pd.DataFrame:
    """Number kept windows into shards per split: in (video, start) order, ``per_shard`` a
    shard, and a new shard whenever the frame size changes (a shard holds one size)."""
    out = windows.copy()
    out["size"] = [f"{sizes[v][0]}x{sizes[v][1]}" for v in out["video"]]
    out["shard"], out["index"] = -1, -1
    for _split, grp in out[out["kept"]].sort_values(["video", "start"]).groupby("split"):
        shard, index, size = 0, 0, None
        for row in grp.itertuples():
            if index == per_shard or (size is not None and row.size != size):
                shard, index = shard + 1, 0
            out.loc[row.Index, ["shard", "index"]] = shard, index
            size, index = row.size, index + 1
    return out[SELECTION_COLUMNS]


def nothing_kept(selection: pd.DataFrame, statistic: dict[tuple[str, str], pd.Series],
                 fps: dict[str, float], s: SelectionSettings, factor: int) -> str | None:
    """Why a split keeps no window, or None when every split keeps one: one line per video of
    each empty split (windows tried and rejected, the frame rate, the median and 10th percentile
    of its pairs' flow ``statistic[(video, split)]``, NaN where skipped, against the threshold),
    then what to change."""
    kept = set(selection.loc[selection["kept"], "split"])
    empty = sorted({split for _, split in statistic} - kept)
    if not empty:
        return None
    lines, hints = [f"select: no window is kept in split {' or '.join(map(repr, empty))}:"], []
    for (video, split), pairs in sorted(statistic.items()):
        if split not in empty:
            continue
        rows = selection[(selection["video"] == video) & (selection["split"] == split)]
        reasons = rows["reason"].value_counts()
        median, p10 = (float(pairs.quantile(q)) if len(pairs) else float("nan")
                       for q in (0.5, 0.1))
        skipped = int(pairs.isna().sum())
        lines.append(
            f"  {video} ({split}, {fps[video]:g} fps, {len(pairs) + 1} frames): "
            f"{len(rows)} windows tried, {reasons.get('flow', 0)} rejected for flow, "
            f"{reasons.get('matching', 0)} for matching; flow '{s.statistic}' median "
            f"{median:.2f} px, 10th percentile {p10:.2f} px"
            + (f" (of the pairs computed; {skipped} fast ones skipped)" if skipped else "")
            + f", select.threshold {s.threshold:g} px"
            + (f" × interpolate.factor {s.interpolate}" if s.interpolate > 1 else ""))
        if rows.empty:
            hints.append(f"a longer clip (a split's frames must hold a window of up to "
                         f"select.ne_max = {s.ne_max} frames) or a lower select.ne_max")
        elif p10 > s.usable_px:
            hints.append(f"footage that moves less between frames: a higher frame rate (the "
                         f"paper: 240 fps) or a steadier camera, or a larger downsample.factor "
                         f"(now {factor}), or interpolate.factor (now {s.interpolate}: frames "
                         f"synthesised between frames, so pairs may move up to factor × "
                         f"select.threshold); a larger select.threshold lets ghosts through")
        elif reasons.get("flow", 0) >= reasons.get("matching", 0):
            hints.append(f"calm stretches are short: a lower select.ne_min/ne_max (now "
                         f"{s.ne_min}/{s.ne_max}) or select.guard_pairs (now {s.guard_pairs})")
        else:
            hints.append(f"a larger select.max_match_err (now {s.max_match_err:g})")
    if set(empty) == {"test"}:
        in_time = selection.groupby("video")["split"].nunique().max() > 1
        hints.append("a larger split.test_fraction (the test stretch ends the clip)" if in_time
                     else "other videos in split.test_videos")
    lines.append("To change: " + "; or ".join(dict.fromkeys(hints)) + ".")
    return "\n".join(lines)
