"""§2 steps 2–4: windows of random odd Ne where every pair passes flow and matching checks."""

import numpy as np
import pandas as pd
import pytest

from wilddeblur.dataset.select import (
    SelectionSettings,
    assign_shards,
    assign_splits,
    draw_ne,
    guarded,
    select_windows,
)


def pairs_table(motion: list[float], match: list[float] | None = None,
                local: list[float] | None = None) -> pd.DataFrame:
    m = np.asarray(motion, float)
    return pd.DataFrame({"pair": np.arange(m.size), "mean": m * 0.8, "p95": m * 0.9,
                         "p99": m, "region": m * 1.1, "max": m * 1.2,
                         "match_err": match if match is not None else np.full(m.size, 0.01),
                         "match_err_local": local if local is not None else np.full(m.size, 0.02)})


def test_ne_is_odd_and_in_range_and_covers_it():
    rng = np.random.default_rng(0)
    draws = {draw_ne(rng, 7, 23) for _ in range(2000)}
    assert draws == set(range(7, 24, 2))


def test_calm_clip_gives_back_to_back_windows():
    sel = select_windows("v", pairs_table([0.3] * 199), SelectionSettings())
    assert sel["kept"].all()
    assert (sel["start"].iloc[1:].to_numpy() == (sel["start"] + sel["ne"]).iloc[:-1]).all()
    assert (sel["center"] == sel["start"] + sel["ne"] // 2).all()
    assert (sel["start"] + sel["ne"]).max() <= 200


def test_fast_stretch_is_rejected_and_never_inside_a_kept_window():
    motion = [0.3] * 60 + [2.5] * 40 + [0.3] * 60  # pairs 60..99 move 2.5 px
    sel = select_windows("v", pairs_table(motion), SelectionSettings())
    kept = sel[sel["kept"]]
    for row in kept.itertuples():
        pairs = range(row.start, row.start + row.ne - 1)
        assert not any(60 <= p < 100 for p in pairs)
    assert (sel.loc[~sel["kept"], "reason"] == "flow").all()
    assert (~sel["kept"]).any()
    assert kept["flow_p99"].max() <= 1.0


def test_statistic_and_threshold_are_configurable():
    motion = [0.88] * 100  # p99 0.88, region 0.968 and max 1.056 px
    assert select_windows("v", pairs_table(motion), SelectionSettings(statistic="p99"))[
        "kept"].all()
    assert select_windows("v", pairs_table(motion), SelectionSettings())["kept"].all()
    by_max = select_windows("v", pairs_table(motion), SelectionSettings(statistic="max"))
    assert not by_max["kept"].any()
    looser = SelectionSettings(statistic="max", threshold=1.1)
    assert select_windows("v", pairs_table(motion), looser)["kept"].all()
    stricter = SelectionSettings(threshold=0.9)  # region 0.968 > 0.9
    assert not select_windows("v", pairs_table(motion), stricter)["kept"].any()


def test_default_statistic_is_the_region_maximum():
    assert SelectionSettings().statistic == "region"


def test_local_matching_error_rejects_only_when_set():
    local = [0.02] * 50 + [0.2] + [0.02] * 49
    table = pairs_table([0.2] * 100, local=local)
    assert select_windows("v", table, SelectionSettings())["kept"].all()
    sel = select_windows("v", table, SelectionSettings(max_match_err_local=0.1))
    assert set(sel.loc[~sel["kept"], "reason"]) == {"matching"}


def test_matching_error_rejects():
    match = [0.01] * 50 + [0.5] + [0.01] * 49
    sel = select_windows("v", pairs_table([0.2] * 100, match), SelectionSettings())
    assert set(sel.loc[~sel["kept"], "reason"]) == {"matching"}


def test_same_seed_same_windows_other_seed_other_windows():
    table = pairs_table([0.3] * 400)
    a = select_windows("v", table, SelectionSettings(seed=1))
    b = select_windows("v", table, SelectionSettings(seed=1))
    c = select_windows("v", table, SelectionSettings(seed=2))
    pd.testing.assert_frame_equal(a, b)
    assert not a["ne"].equals(c["ne"])


def test_blur_size_sums_mean_flow_over_the_window():
    sel = select_windows("v", pairs_table([0.5] * 100), SelectionSettings())
    row = sel.iloc[0]
    assert row["blur_size"] == pytest.approx((row["ne"] - 1) * 0.4)


def test_bad_settings_name_the_key():
    with pytest.raises(ValueError, match="select.statistic"):
        SelectionSettings(statistic="median")
    with pytest.raises(ValueError, match="odd"):
        SelectionSettings(ne_min=8)


def test_splits_by_pattern_fraction_and_fixed():
    videos = ["a", "b", "c", "test_x"]
    assert assign_splits(videos, ["test_*"], 0.2, 0)["test_x"] == "test"
    by_fraction = assign_splits(videos, [], 0.25, 0)
    assert sorted(by_fraction.values()).count("test") == 1
    assert assign_splits(videos, [], 0.25, 0) == by_fraction
    assert assign_splits(["a", "b"], [], 0.5, 0, {"a": "test", "b": "train"}) == {
        "a": "test", "b": "train"}


def test_shards_fill_in_order_and_never_mix_sizes():
    sel = pd.concat([select_windows(v, pairs_table([0.2] * 120), SelectionSettings())
                     for v in ("a", "b")], ignore_index=True)
    sel["split"] = "train"
    out = assign_shards(sel, {"a": (10, 8), "b": (12, 8)}, per_shard=4)
    kept = out[out["kept"]]
    assert kept.groupby("shard")["size"].nunique().max() == 1
    assert kept.groupby("shard").size().max() <= 4
    assert (kept.groupby("shard")["index"].apply(lambda s: list(s) == list(range(len(s))))).all()
    assert (out.loc[~out["kept"], "shard"] == -1).all()


def test_guard_rejects_the_pairs_next_to_a_fast_one():
    ok = np.ones(12, bool)
    ok[5] = False
    expected = np.array([1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1], bool)  # pairs 3..7 fail with 2
    np.testing.assert_array_equal(guarded(ok, 2), expected)
    np.testing.assert_array_equal(guarded(ok, 0), ok)


def test_default_guard_keeps_windows_off_the_pairs_around_a_fast_stretch():
    motion = [0.3] * 60 + [2.5] * 10 + [0.3] * 60  # pairs 60..69 move 2.5 px
    sel = select_windows("v", pairs_table(motion), SelectionSettings())
    for row in sel[sel["kept"]].itertuples():
        assert not set(range(row.start, row.start + row.ne - 1)) & set(range(56, 74))
