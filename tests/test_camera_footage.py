"""Footage as cameras encode it (issue 31): key frames every 10 frames at a camera's bit rate over
a still, low-texture, noisy scene must not read as motion (flow.evidence), while a moving object
still does, and flow.skip keeps the selection."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.test_skip import SETTINGS, assert_same_selection
from wilddeblur.dataset.select import SelectionSettings, select_windows
from wilddeblur.flow import flow_table, make_backend
from wilddeblur.video.camera import render_camera_clip
from wilddeblur.video.demo import ground_truth_flow
from wilddeblur.video.io import decode_frames

SIZE, FACTOR, GOP = (640, 360), 3, 10
CAMERA = {"size": SIZE, "bitrate": "1.5M", "gop": GOP}  # 6 Mb/s at 1280x720, per pixel


def clip(tmp: Path, name: str, stretches) -> tuple[np.ndarray, pd.DataFrame]:
    """The downsampled frames of a camera-like clip and its motion table."""
    motion = render_camera_clip(tmp / f"{name}.mp4", stretches, **CAMERA)
    w, h = SIZE[0] // FACTOR, SIZE[1] // FACTOR
    return np.concatenate(list(decode_frames(tmp / f"{name}.mp4", w, h))), motion


@pytest.fixture(scope="module")
def still(tmp_path_factory) -> np.ndarray:
    return clip(tmp_path_factory.mktemp("camera"), "still", [(0.0, 0.5)])[0]


@pytest.fixture(scope="module")
def moving(tmp_path_factory) -> tuple[np.ndarray, pd.DataFrame]:
    return clip(tmp_path_factory.mktemp("camera"), "moving", [(0.0, 0.1), (2.5, 0.25),
                                                              (0.0, 0.15)])


def key_gaps(region: np.ndarray) -> np.ndarray:
    """|statistic of each pair ending on a key frame − the mean of its two neighbours'|, after
    the first GOP (x264's rate control starts low and adds detail over the first P-frames:
    true changes of the picture, which the flow reads as motion there)."""
    key = np.flatnonzero((np.arange(region.size) + 1) % GOP == 0)
    key = key[(key > GOP) & (key < region.size - 1)]
    return np.abs(region[key] - (region[key - 1] + region[key + 1]) / 2)


def test_key_frames_of_a_still_scene_read_as_their_neighbours(still):
    table = flow_table(still, make_backend("dis"))
    assert key_gaps(table["region"].to_numpy()).max() <= 0.2
    raw = flow_table(still, make_backend("dis"), evidence=0)  # the clip shows the problem
    assert key_gaps(raw["region"].to_numpy()).max() > 1.0


@pytest.mark.parametrize("backend", ["dis", "farneback"])
def test_a_still_scene_keeps_its_windows(still, backend):
    """Every window the 120 still frames hold after the first two GOPs (the first, see
    :func:`key_gaps`, and the guard after it) is kept, whatever the backend."""
    table = flow_table(still, make_backend(backend))
    windows = select_windows("still", table, SelectionSettings(), (2 * GOP, len(table) + 1))
    assert len(windows) >= 5 and windows["kept"].all()


def ghost_prone(motion: pd.DataFrame, pairs: int, region_px: int = 64) -> np.ndarray:
    """Per pair: whether at least ``region_px`` downsampled pixels truly move more than 1 px."""
    out = []
    for t in range(pairs):
        flow = ground_truth_flow(motion, t, SIZE, step=FACTOR) / FACTOR
        out.append((np.hypot(flow[..., 0], flow[..., 1]) > 1).sum() >= region_px)
    return np.array(out)


def test_a_moving_object_still_reads_as_moving(moving):
    """A low-contrast disc crossing at 2.5 px a frame: the flow check fails its pairs, and no
    kept window holds a pair where it truly moves more than 1 px."""
    frames, motion = moving
    table = flow_table(frames, make_backend("dis"))
    prone = ghost_prone(motion, len(table))
    assert prone.sum() >= 40
    assert (table.loc[prone, "region"] > 1).mean() >= 0.9
    windows = select_windows("moving", table, SelectionSettings())
    assert windows["kept"].any()
    for w in windows[windows["kept"]].itertuples():
        assert not prone[w.start : w.start + w.ne - 1].any()


def test_skipping_keeps_the_selection_with_evidence(moving):
    frames = moving[0]
    full = flow_table(frames, make_backend("dis"))
    skipped = flow_table(frames, make_backend("dis"), skip=SETTINGS.skip_rule)
    assert skipped["skipped"].sum() >= 10
    assert_same_selection(full, skipped, SETTINGS)
