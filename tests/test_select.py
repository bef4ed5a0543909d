"""§2 steps 2–4: windows of random odd Ne where every pair passes flow and matching checks."""

import numpy as np
import pandas as pd
import pytest

from wilddeblur.select import (
    SelectionSettings,
    assign_shards,
    assign_splits,
    draw_ne,
    select_windows,
)


def pairs_table(motion: list[float], match: list[float] | None = None) -> pd.DataFrame:
    m = np.asarray(motion, float)
    return pd.DataFrame({"pair": np.arange(m.size), "mean": m * 0.8, "p95": m * 0.9,
                         "p99": m, "max": m * 1.2,
                         "match_err": match if match is not None else np.full(m.size, 0.01)})


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
    motion = [0.9] * 100  # p99 0.9 passes; max = 1.08 fails
    assert select_windows("v", pairs_table(motion), SelectionSettings())["kept"].all()
    by_max = select_windows("v", pairs_table(motion), SelectionSettings(statistic="max"))
    assert not by_max["kept"].any()
    stricter = select_windows("v", pairs_table(motion), SelectionSettings(threshold=0.85))
    assert not stricter["kept"].any()
    looser = SelectionSettings(statistic="max", threshold=1.1)
    assert select_windows("v", pairs_table(motion), looser)["kept"].all()


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
