"""Flow backends and the per-pair statistics of §2 steps 3–4."""

import numpy as np
import pytest
from skimage import data

from wilddeblur.flow import PairStatistics, flow_table, make_backend, pair_statistics
from wilddeblur.flow.stats import (
    local_matching_error,
    matching_error,
    matching_residual,
    region_max,
)


def shifted_pair(dx: float, dy: float):
    """A real photo and the same photo moved by (dx, dy) pixels (frame2(x) = frame1(x - d))."""
    import cv2

    img = cv2.resize(data.astronaut(), (192, 192), interpolation=cv2.INTER_AREA)
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    moved = cv2.warpAffine(img, m, (192, 192), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT)
    return img, moved


@pytest.mark.parametrize("backend", ["dis", "farneback"])
def test_known_shift_is_recovered(backend):
    f1, f2 = shifted_pair(0.6, -0.4)
    flow = make_backend(backend)(f1, f2)
    assert flow.shape == (192, 192, 2) and flow.dtype == np.float32
    inner = flow[32:-32, 32:-32]
    assert np.median(inner[..., 0]) == pytest.approx(0.6, abs=0.1)
    assert np.median(inner[..., 1]) == pytest.approx(-0.4, abs=0.1)


def test_statistics_of_a_known_flow_field():
    f = np.zeros((10, 10, 3), np.uint8)
    flow = np.zeros((10, 10, 2), np.float32)
    flow[0, 0] = (3.0, 4.0)  # one pixel moves 5 px
    stats = pair_statistics(f, f, flow, evidence=0)  # the flow as it is
    assert stats["max"] == pytest.approx(5.0)
    assert stats["mean"] == pytest.approx(0.05)
    assert stats["p95"] == 0.0


def test_matching_error_is_small_for_the_true_flow_and_large_for_a_wrong_one():
    f1, f2 = shifted_pair(2.0, 0.0)
    true = np.zeros((192, 192, 2), np.float32)
    true[..., 0] = 2.0

    def err(a, b, flow):
        return matching_error(*matching_residual(a, b, flow))

    assert err(f1, f2, true) < 0.02
    assert err(f1, f2, -true) > 2 * err(f1, f2, true)
    assert err(f1, f1, np.zeros_like(true)) == 0.0


def test_region_statistic_bounds_a_small_fast_region_that_p99_ignores():
    """A 20×20 region (0.4 % of a 427×240 frame) moving 4 px over a background moving 0.2 px:
    p99 stays near 0.2, the 64-pixel region maximum is 4; a handful of outlier pixels is not
    enough to raise it."""
    flow = np.full((240, 427, 2), 0.0, np.float32)
    flow[..., 0] = 0.2
    flow[100:120, 200:220, 0] = 4.0
    stats = pair_statistics(np.zeros((240, 427, 3), np.uint8),
                            np.zeros((240, 427, 3), np.uint8), flow, region_px=64,
                            evidence=0)
    assert stats["p99"] == pytest.approx(0.2)
    assert stats["region"] == pytest.approx(4.0)
    assert stats["max"] == pytest.approx(4.0)
    mag = np.full(240 * 427, 0.2, np.float32)
    mag[:63] = 9.0  # 63 isolated outliers: fewer than 64
    assert region_max(mag, 64) == pytest.approx(0.2)
    mag[:64] = 9.0
    assert region_max(mag, 64) == pytest.approx(9.0)


def test_statistics_ignore_the_frame_border_and_nothing_inside_it():
    """Flow errors along the frame's edges (content entering or leaving) do not count: a 10 px
    strip at the left edge moving 3 px leaves every statistic at the background's 0.2 px, while
    the same strip 16 px further in raises the region maximum to 3 px."""
    frame = np.zeros((240, 427, 3), np.uint8)
    flow = np.full((240, 427, 2), 0.0, np.float32)
    flow[..., 0] = 0.2
    flow[:, :10, 0] = 3.0
    at_edge = pair_statistics(frame, frame, flow, region_px=64, border_px=16, evidence=0)
    assert at_edge["region"] == pytest.approx(0.2)
    assert at_edge["max"] == pytest.approx(0.2)
    flow[:, :10, 0] = 0.2
    flow[:, 26:36, 0] = 3.0
    inside = pair_statistics(frame, frame, flow, region_px=64, border_px=16, evidence=0)
    assert inside["region"] == pytest.approx(3.0)


def test_local_matching_error_finds_a_small_mismatch_the_global_one_averages_away():
    residual = np.zeros((64, 64), np.float32)
    residual[:16, :16] = 0.4  # one 16×16 tile of 16 mismatched
    valid = np.ones((64, 64), bool)
    assert matching_error(residual, valid) == pytest.approx(0.1)  # sqrt(0.16 / 16)
    assert local_matching_error(residual, valid, block=16) == pytest.approx(0.4)


def test_flow_table_has_one_row_per_consecutive_pair():
    f1, f2 = shifted_pair(0.5, 0.0)
    _, f3 = shifted_pair(1.0, 0.0)
    table = flow_table(np.stack([f1, f2, f3]), make_backend("dis"))
    assert list(table["pair"]) == [0, 1]
    assert set(table.columns) >= {"mean", "p95", "p99", "max", "match_err"}
    assert table["p99"].iloc[0] == pytest.approx(0.5, abs=0.25)


def test_unknown_backend_names_the_key():
    with pytest.raises(ValueError, match="flow.backend"):
        make_backend("raft9000")
    with pytest.raises(ValueError, match="flow.dis_preset"):
        make_backend("dis", preset="slowest")


@pytest.mark.parametrize("chunks", [[9], [1, 3, 5], [4, 1, 4]])
def test_threaded_statistics_equal_one_thread_in_order(chunks):
    """Several DIS engines (one per thread) give the rows one engine gives, in pair order,
    however the frames are chunked; each pair moves by its own known amount."""
    frames = np.stack([shifted_pair(0.4 * k, 0.0)[1] for k in range(9)])  # pair k moves 0.4 px
    frames[5:] = frames[5:][:, :, ::-1]  # and a pair with a mirror jump in the middle
    one = flow_table(frames, make_backend("dis"))
    with PairStatistics([make_backend("dis") for _ in range(3)]) as threaded:
        for start, size in zip(np.cumsum([0, *chunks[:-1]]), chunks, strict=True):
            threaded.add(frames[start : start + size])
    table = threaded.table()
    assert list(table["pair"]) == list(range(8))
    assert table.equals(one)
    assert table["p99"].iloc[0] == pytest.approx(0.4, abs=0.2)
    assert table["max"].iloc[4] > 10 * table["max"].iloc[3]  # the jump is where it happened


def test_flownet_without_weights_names_the_key():
    from wilddeblur.flow.settings import FlowSettings

    with pytest.raises(ValueError, match="flow.weights"):
        FlowSettings(backend="flownets")
    assert FlowSettings(backend="flownets", weights="w.pth").classical is False
    assert FlowSettings().classical


def test_a_negative_evidence_level_names_the_key():
    from wilddeblur.flow.settings import FlowSettings

    with pytest.raises(ValueError, match="flow.evidence must be 0 or more levels, got -1"):
        FlowSettings(evidence=-1)
    assert FlowSettings(evidence=0).evidence == 0


def test_an_empty_chunk_adds_no_row():
    f1, f2 = shifted_pair(0.5, 0.0)
    with PairStatistics(make_backend("dis")) as stats:
        stats.add(np.empty((0, *f1.shape), np.uint8))
        stats.add(np.stack([f1]))
        stats.add(np.empty((0, *f1.shape), np.uint8))
        stats.add(np.stack([f2]))
    assert list(stats.table()["pair"]) == [0]
