"""The embedded demo: real photos, known motion, calm and fast stretches, deterministic."""

import numpy as np
import pandas as pd
import pytest

from wilddeblur.video.demo import (
    DEMO_CLIPS,
    clip_spec,
    ground_truth_flow,
    motion_path,
    render_clip,
)
from wilddeblur.video.io import decode_frames
from wilddeblur.video.probe import probe


def test_clip_has_the_requested_format_and_motion_table(tiny_clip):
    info = probe(tiny_clip)
    assert (info.width, info.height, info.fps, info.frames) == (384, 216, 240.0, 240)
    motion = pd.read_csv(motion_path(tiny_clip))
    assert len(motion) == 240
    disp = motion["gt_max_disp_ds"].iloc[:-1]
    assert (disp <= 1).mean() > 0.2, "calm stretches the selection can keep"
    assert (disp > 1.5).mean() > 0.2, "fast stretches the 1 px threshold must reject"


def test_same_seed_renders_the_same_motion(tmp_path, tiny_clip):
    again = render_clip("demo-train-a", tmp_path / "a.mp4", width=384, height=216, seconds=1.0)
    pd.testing.assert_frame_equal(again, pd.read_csv(motion_path(tiny_clip)), atol=1e-9)
    other = render_clip("demo-train-a", tmp_path / "b.mp4", width=384, height=216, seconds=1.0,
                        seed=5)
    assert not np.allclose(other["cam_a"], again["cam_a"]) or not np.allclose(
        other["obj_x"], again["obj_x"])


def test_a_still_stretch_where_only_a_small_object_moves_fast(tiny_clip):
    """The camera nearly still (< 0.2 downsampled px per frame) while the small object (about
    20×20 downsampled px at 720p) crosses at ≥ 2 px per frame, then stands still."""
    motion = pd.read_csv(motion_path(tiny_clip))
    crossing = motion[(motion["small_max_disp"] / 3 >= 2.0)]
    assert len(crossing) >= 10
    assert (crossing["cam_max_disp"] / 3 < 0.2).all()
    assert (crossing["obj_max_disp"] / 3 < 1.0).all()
    resting = motion[(motion["cam_max_disp"] / 3 < 0.2) & (motion["small_max_disp"] / 3 < 0.1)]
    assert len(resting) >= 10
    assert motion["small_radius"].iloc[0] * 2 == pytest.approx(22 * 3 * 216 / 720, abs=1)


def test_test_clips_use_other_photos_than_training_clips():
    def photos(split):
        return {p for s in DEMO_CLIPS.values() if s.split == split
                for p in (*s.background, s.object, s.small_object)}

    assert photos("test") and photos("train")
    assert not photos("test") & photos("train")


def test_rendered_clips_keep_the_split_by_photo_and_unknown_names_fail():
    """config/rendered.yaml's clips: photos drawn by the name, test clips only from the demo's
    test photos, training clips never from them, the same spec for the same name."""
    test_photos = {"motorcycle_left", "motorcycle_right", "retina"}
    for n in range(12):
        train, test = clip_spec(f"rendered-train-{n:02d}"), clip_spec(f"rendered-test-{n:02d}")
        assert (train.split, test.split) == ("train", "test")
        assert not {*train.background, train.object, train.small_object} & test_photos
        assert {*test.background, test.object, test.small_object} <= test_photos
        assert len(set(train.background)) == 3
    assert clip_spec("rendered-train-07") == clip_spec("rendered-train-07")
    assert len({clip_spec(f"rendered-train-{n}").background for n in range(12)}) > 6
    with pytest.raises(ValueError, match="demo.clips: unknown clip 'rendered-val-1'"):
        clip_spec("rendered-val-1")


def test_ground_truth_flow_agrees_with_the_rendered_frames(tiny_clip):
    """Warping frame t+1 back by the true flow reproduces frame t (up to codec noise)."""
    import cv2

    motion = pd.read_csv(motion_path(tiny_clip))
    frames = np.concatenate(list(decode_frames(tiny_clip, 384, 216)))
    t = int(motion["gt_max_disp_ds"].iloc[:-1].idxmax())  # the fastest pair
    flow = ground_truth_flow(motion, t, (384, 216))
    assert np.hypot(flow[..., 0], flow[..., 1]).max() == pytest.approx(
        motion["gt_max_disp_ds"].iloc[t] * 3, rel=0.05)
    yy, xx = np.mgrid[:216, :384].astype(np.float32)
    warped = cv2.remap(frames[t + 1], xx + flow[..., 0], yy + flow[..., 1], cv2.INTER_LINEAR)
    inner = np.s_[20:-20, 20:-20]
    err_true = np.abs(warped[inner].astype(float) - frames[t][inner]).mean()
    err_none = np.abs(frames[t + 1][inner].astype(float) - frames[t][inner]).mean()
    assert err_true < 0.5 * err_none
