"""interpolate.factor (issue 27): frames synthesised between consecutive frames, the selection's
k × threshold rule, and blurry images against the densely rendered true exposure."""

import cv2
import numpy as np
import pandas as pd
import pytest

from tests.test_select import pairs_table
from wilddeblur.dataset.average import average_frames
from wilddeblur.dataset.interpolate import interpolate_window, visible
from wilddeblur.dataset.select import SelectionSettings, select_windows
from wilddeblur.dataset.shards import open_shard
from wilddeblur.dataset.stages import average, select
from wilddeblur.errors import SelectionError
from wilddeblur.evaluation.metrics import psnr
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.flow.stages import flow_stage
from wilddeblur.video.demo_scene import photo
from wilddeblur.video.exposure import render_stretch_clip, stretch_scene
from wilddeblur.video.probe import VideoInfo
from wilddeblur.video.stages import probe_video
from wilddeblur.video.windows import VideoWindows


def shifted(image: np.ndarray, dx: float) -> np.ndarray:
    """``image`` moved right by ``dx`` pixels (bilinear)."""
    m = np.float32([[1, 0, dx], [0, 1, 0]])
    return cv2.warpAffine(image, m, image.shape[1::-1], flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def exact_flow(velocity: float):
    """A flow backend that knows the answer: every pixel moves ``velocity`` px right from the
    first frame given to the second, whichever order they come in."""
    calls = []

    def backend(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        calls.append(1)
        flow = np.zeros((*a.shape[:2], 2), np.float32)
        forward = len(calls) % 2 == 1  # interpolate_window asks forward, then backward
        flow[..., 0] = velocity if forward else -velocity
        return flow

    return backend


def test_synthesised_frames_lie_on_the_motion_and_the_originals_stay():
    texture = cv2.resize(photo("astronaut"), (160, 120), interpolation=cv2.INTER_AREA)
    frames = np.stack([shifted(texture, 3.0 * i) for i in range(3)])
    dense = interpolate_window(frames, 4, exact_flow(3.0))
    assert dense.shape == (9, 120, 160, 3) and dense.dtype == np.float32
    assert np.array_equal(dense[::4], frames.astype(np.float32))
    inner = np.s_[:, 10:-10]
    for j in range(9):
        truth = shifted(texture, 0.75 * j).astype(np.float64)
        assert psnr(dense[j][inner], truth[inner]) > 40, j
    blend = 0.5 * frames[0].astype(np.float64) + 0.5 * frames[1]  # what no flow would give
    assert psnr(blend[inner], shifted(texture, 1.5)[inner].astype(np.float64)) < 30


def test_pixels_covered_by_a_moving_disc_are_not_visible_in_the_next_frame():
    flow = np.zeros((60, 80, 2), np.float32)
    back = np.zeros_like(flow)
    yy, xx = np.mgrid[:60, :80]
    disc0 = np.hypot(xx - 30, yy - 30) <= 10
    disc1 = np.hypot(xx - 36, yy - 30) <= 10
    flow[disc0, 0] = 6.0  # the disc moves 6 px right; the background stays
    back[disc1, 0] = -6.0
    vis0 = visible(flow, back)
    hidden = disc1 & ~disc0  # background the disc covers in the next frame
    assert vis0[hidden].mean() < 0.1 and vis0[~hidden].mean() > 0.95


def test_interpolation_lets_the_selection_keep_up_to_k_threshold():
    table = pairs_table([2.4 / 1.1] * 60 + [6.0 / 1.1] * 60)  # region = 2.4, then 6 px
    k1 = select_windows("v", table, SelectionSettings())
    k4 = select_windows("v", table, SelectionSettings(interpolate=4))
    assert not k1["kept"].any()
    kept = k4[k4["kept"]]
    assert len(kept) > 2 and (kept["start"] + kept["ne"] <= 61).all()
    assert SelectionSettings(interpolate=4).usable_px == 4.0


@pytest.fixture(scope="module")
def stretch_clip(tmp_path_factory):
    """A 640×360 clip: 0.4 s of pan at 2.4 px per (downsampled) frame, then 0.3 s at 6 px,
    its probe and flow table, and the scene that rendered it."""
    work = tmp_path_factory.mktemp("stretches")
    scene = stretch_scene([(2.4, 0.4), (6.0, 0.3)], ("brick", "gravel", "text"), "coins",
                          seed=3, size=(640, 360))
    render_stretch_clip(scene, work / "clip.mp4")
    probe_video(work / "clip.mp4", work / "probe" / "clip.json")
    flow_stage(work / "probe" / "clip.json", work / "flow" / "clip.csv", 3, FlowSettings(), 1)
    return work, scene


def test_the_paper_rule_keeps_neither_fast_stretch(stretch_clip):
    work, _ = stretch_clip
    with pytest.raises(SelectionError, match="no window is kept"):
        select([work / "flow" / "clip.csv"], work / "probe", work / "k1.csv",
               SelectionSettings(), fixed_splits={"clip": "train"})


def test_interpolated_windows_match_the_true_exposure(stretch_clip):
    work, scene = stretch_clip
    sel = select([work / "flow" / "clip.csv"], work / "probe", work / "k4.csv",
                 SelectionSettings(interpolate=4), fixed_splits={"clip": "train"})
    kept = sel[sel["kept"]].sort_values("index")
    assert len(kept) >= 2
    assert (kept["start"] + kept["ne"] <= round(0.4 * scene.fps) + 2).all()  # not the 6 px
    shard = work / "train" / "shard-00000.h5"
    average(work / "k4.csv", "train", 0, work / "probe", shard, interpolate=4)
    with open_shard(shard) as f:
        blurry = f["blurry"][()]
        assert (f["interpolate_factor"][()] == 4).all()
    rows = kept.head(2)
    windows = VideoWindows(VideoInfo.from_json(work / "probe" / "clip.json"), 3,
                           list(zip(rows["start"], rows["ne"], strict=True)))
    for row, image in zip(rows.itertuples(), blurry, strict=False):
        t0, t1 = row.start - 1 / 8, row.start + row.ne - 1 + 1 / 8
        truth = scene.exposure(t0, t1, 8 * (4 * (row.ne - 1) + 1))
        ys, xs = scene.object_box(t0, t1)
        assert psnr(image, truth) >= 40
        assert psnr(image[ys, xs], truth[ys, xs]) >= 38
        plain = average_frames(windows.window(row.start, row.ne))  # the paper's mean
        plain_truth = scene.exposure(t0 - 3 / 8, t1 + 3 / 8, 8 * row.ne)
        assert psnr(image, truth) > psnr(plain, plain_truth)  # beats the paper on each
    windows.close()
    assert pd.read_csv(work / "k4.csv")["kept"].sum() == len(kept)
