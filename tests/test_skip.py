"""flow.skip: the flow of pairs that cannot change the selection is skipped, the selection stays
the same, and a table skipped under a looser rule is refused."""

import itertools
import threading
import time

import numpy as np
import pandas as pd
import pytest

from tests.test_flow import shifted_pair
from wilddeblur.dataset.select import (
    SelectionSettings,
    check_skipped,
    guarded,
    select_windows,
)
from wilddeblur.dataset.stages import select
from wilddeblur.errors import ConfigError, SelectionError
from wilddeblur.flow import PairStatistics, flow_table, make_backend
from wilddeblur.flow.stats import STATISTICS
from wilddeblur.video.probe import VideoInfo

SETTINGS = SelectionSettings(ne_min=3, ne_max=9)  # short windows: many of them on short clips


def coded_frames(speeds: np.ndarray) -> np.ndarray:
    """Small frames whose pair i moves ``speeds[i]`` px by :func:`coded_flow` (0.1 px steps),
    each frame distinct (its own fingerprint)."""
    frames = np.zeros((len(speeds) + 1, 40, 48, 3), np.uint8)
    frames[:-1, ..., 0] = np.round(np.asarray(speeds) * 10)[:, None, None]
    frames[..., 1] = (np.arange(len(frames)) % 256)[:, None, None]
    return frames


def coded_flow(frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
    """A uniform flow of the magnitude that ``frame1`` carries (the frames do not show it:
    tables of it take the flow as it is, flow.evidence 0)."""
    return np.full((*frame1.shape[:2], 2), frame1[0, 0, 0] / 10 / np.sqrt(2), np.float32)


def stretches(rng: np.random.Generator, n: int) -> np.ndarray:
    """Calm (0–1 px) and fast (1–3 px) stretches of random lengths, with single spikes."""
    speeds = []
    while len(speeds) < n:
        fast = rng.random() < 0.5
        speeds += list(rng.uniform(1.05, 3, rng.integers(1, 25)) if fast
                       else rng.uniform(0, 0.95, rng.integers(1, 25)))
    speeds = np.array(speeds[:n])
    speeds[rng.random(n) < 0.03] = 2.0
    return speeds


def streamed(frames: np.ndarray, backends: list, rule, chunks: list[int]) -> pd.DataFrame:
    """The table of ``frames`` fed in chunks of the sizes ``chunks``, repeated."""
    with PairStatistics(backends, skip=rule, evidence=0) as stats:
        start, sizes = 0, itertools.cycle(chunks)
        while start < len(frames):
            size = next(sizes)
            stats.add(frames[start : start + size])
            start += size
    return stats.table()


def assert_same_selection(full: pd.DataFrame, skipped: pd.DataFrame,
                          s: SelectionSettings) -> None:
    """Every window tried, kept or not and why, and the statistics of the windows without a
    skipped pair (every kept one) agree; those with one have NaN statistics."""
    a, b = select_windows("v", full, s), select_windows("v", skipped, s)
    columns = ["start", "ne", "center", "kept", "reason"]
    pd.testing.assert_frame_equal(a[columns], b[columns])
    holds = np.array([skipped["skipped"].iloc[w.start : w.start + w.ne - 1].any()
                      for w in b.itertuples()])
    pd.testing.assert_frame_equal(a[~holds], b[~holds])
    assert b.loc[holds, "blur_size"].isna().all() and not b.loc[holds, "kept"].any()
    assert a["kept"].any() and (a["reason"] == "flow").any() and holds.any()


def assert_same_flow_check(full: pd.DataFrame, skipped: pd.DataFrame,
                           s: SelectionSettings) -> None:
    """Every pair passes or fails the guarded flow check as with every pair computed."""
    ok = [guarded((t[s.statistic] <= s.usable_px).to_numpy(), s.guard_pairs)
          for t in (full, skipped)]
    assert (ok[0] == ok[1]).all()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("threads,chunks", [(1, [32]), (2, [32]), (2, [5, 1, 7]), (3, [1])])
def test_skipping_keeps_the_selection_of_every_pair(seed, threads, chunks):
    frames = coded_frames(stretches(np.random.default_rng(seed), 300))
    full = flow_table(frames, coded_flow, evidence=0)
    for s in (SETTINGS, SelectionSettings(ne_min=3, ne_max=9, guard_pairs=2, threshold=0.5,
                                          interpolate=3, statistic="max")):
        table = streamed(frames, [coded_flow] * threads, s.skip_rule, chunks)
        assert table["skipped"].mean() > 0.1
        assert table[["pair", "crc", "crc_next"]].equals(full[["pair", "crc", "crc_next"]])
        done = ~table["skipped"]
        pd.testing.assert_frame_equal(table.loc[done, full.columns], full[done])
        assert table.loc[~done, list(STATISTICS)].isna().all().all()
        assert_same_flow_check(full, table, s)
        assert_same_selection(full, table, s)


@pytest.mark.parametrize("guard", [1, 2, 4])
def test_a_calm_stretch_of_twice_the_guard_and_one_keeps_its_middle(guard):
    """Between two fast pairs 2 × guard + 2 apart, the calm pair in the middle has no fast pair
    within the guard: it passes the flow check, so its flow is computed, not skipped."""
    speeds = np.repeat([2.0, 0.5, 2.0], [2 * guard + 3, 2 * guard + 1, 2 * guard + 3])
    frames = coded_frames(speeds)
    s = SelectionSettings(guard_pairs=guard)
    table = flow_table(frames, coded_flow, skip=s.skip_rule, evidence=0)
    assert table["skipped"].any() and not table["skipped"][3 * guard + 3]
    assert_same_flow_check(flow_table(frames, coded_flow, evidence=0), table, s)


@pytest.mark.parametrize("threads", [1, 2])
def test_dis_on_a_clip_with_fast_stretches_selects_the_same(threads):
    """Real DIS flow on a photo panning at 0.3 px a frame, then 2.5, with a calm gap."""
    speeds = [0.3] * 14 + [2.5] * 12 + [0.3] * 10 + [2.5] * 9 + [0.3] * 14
    frames = np.stack([shifted_pair(x, 0.0)[1] for x in np.r_[0, np.cumsum(speeds)]])
    full = flow_table(frames, make_backend("dis"))
    table = flow_table(frames, [make_backend("dis") for _ in range(threads)],
                       skip=SETTINGS.skip_rule)
    assert table["skipped"].sum() >= 10
    assert_same_selection(full, table, SETTINGS)


def probe(tmp_path, name: str, pairs: int) -> None:
    (tmp_path / f"{name}.json").write_text(VideoInfo(
        path=f"{name}.mp4", codec="h264", pix_fmt="yuv420p", width=144, height=120,
        rotation=0, fps=240.0, frames=pairs + 1, bits_per_sample=8).to_json())


@pytest.mark.parametrize("change", [{"threshold": 1.5}, {"interpolate": 2}, {"guard_pairs": 3},
                                    {"statistic": "p99"}])
def test_a_table_skipped_under_a_looser_rule_is_refused(tmp_path, change):
    frames = coded_frames(np.repeat([0.3, 2.5, 0.3, 2.5], [60, 40, 60, 40]))
    flow_table(frames, coded_flow, skip=SETTINGS.skip_rule, evidence=0).to_csv(
        tmp_path / "v.csv", index=False)
    probe(tmp_path, "v", 200)
    args = [tmp_path / "v.csv"], tmp_path, tmp_path / "selection.csv"
    looser = SelectionSettings(ne_min=3, ne_max=9, **change)
    with pytest.raises(ConfigError, match=r"v\.csv: \d+ pairs were skipped .*select\.threshold"):
        select(*args, looser, fixed_splits={"v": "train"})
    tighter = SelectionSettings(ne_min=3, ne_max=9, threshold=0.8, guard_pairs=6)
    assert select(*args, tighter, fixed_splits={"v": "train"})["kept"].any()


def test_a_table_with_nothing_skipped_fits_any_rule():
    frames = coded_frames(np.full(40, 0.5))
    table = flow_table(frames, coded_flow, skip=SETTINGS.skip_rule, evidence=0)
    assert not table["skipped"].any()
    check_skipped("v.csv", table, SelectionSettings(threshold=9.0, statistic="max"))


def test_two_engines_compute_side_by_side():
    """With two engines the pairs, and the gaps between them, run on two worker threads."""
    threads = set()

    def engine(frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
        threads.add(threading.get_ident())
        time.sleep(0.002)
        return coded_flow(frame1, frame2)

    frames = coded_frames(stretches(np.random.default_rng(1), 120))
    table = streamed(frames, [engine, engine], SETTINGS.skip_rule, [32])
    assert table["skipped"].any() and len(threads) == 2
    assert threading.get_ident() not in threads


def test_a_selection_keeping_nothing_counts_the_skipped_pairs(tmp_path):
    frames = coded_frames(np.repeat([0.9, 2.5], [30, 60]))
    flow_table(frames, coded_flow, skip=SETTINGS.skip_rule, evidence=0).to_csv(
        tmp_path / "v.csv", index=False)
    probe(tmp_path, "v", 90)
    with pytest.raises(SelectionError, match=r"of the pairs computed; \d+ fast ones skipped"):
        select([tmp_path / "v.csv"], tmp_path, tmp_path / "selection.csv",
               SelectionSettings(threshold=0.5), fixed_splits={"v": "train"})
