"""A split for any number of videos (one video: split in time), refused at the start when a
split would be empty, and a selection that keeps nothing stopping with the reasons."""

import pandas as pd
import pytest

from tests.test_select import pairs_table
from wilddeblur.dataset.select import (
    SelectionSettings,
    check_splits,
    time_split,
    time_split_notes,
)
from wilddeblur.dataset.stages import select
from wilddeblur.errors import SelectionError, SplitError
from wilddeblur.video.probe import VideoInfo


def inputs(tmp_path, motions: dict[str, list[float]], fps: float = 240.0) -> list:
    """Flow tables and probes for videos with these per-pair motions."""
    for name, motion in motions.items():
        pairs_table(motion).to_csv(tmp_path / f"{name}.csv", index=False)
        (tmp_path / f"{name}.json").write_text(VideoInfo(
            path=f"{name}.mp4", codec="h264", pix_fmt="yuv420p", width=384, height=216,
            rotation=0, fps=fps, frames=len(motion) + 1, bits_per_sample=8).to_json())
    return [tmp_path / f"{name}.csv" for name in motions]


def test_one_video_is_split_in_time_with_a_gap_of_a_window(tmp_path, capsys):
    flows = inputs(tmp_path, {"clip": [0.3] * 299})
    s = SelectionSettings(ne_min=7, ne_max=23)
    sel = select(flows, tmp_path, tmp_path / "selection.csv", s, test_fraction=0.2)
    train, test = (sel[sel["split"] == k] for k in ("train", "test"))
    assert train["kept"].any() and test["kept"].any()
    assert test["start"].min() == 300 - 60  # the last fifth
    # no test window within a window's length of a training window
    assert test["start"].min() - (train["start"] + train["ne"]).max() >= s.ne_max
    assert ("clip is split in time (the only video, no split.test_videos): frames 0-216 train, "
            "217-239 unused (a gap of at least one window), 240-299 test"
            in capsys.readouterr().out)


def test_time_split_leaves_the_gap():
    assert time_split(300, 0.2, 23) == (217, 240)


@pytest.mark.parametrize("videos,patterns,fraction,message", [
    (["a", "b"], ["park_*"], 0.2, "split.test_videos: 'park_\\*' matches no input video"),
    (["park_1", "park_2"], ["park_*"], 0.2, "matches every input video"),
    (["a"], ["a"], 0.2, "matches every input video"),
    (["a"], [], 0.0, "split.test_fraction is 0"),
])
def test_an_empty_split_is_refused_naming_the_key(videos, patterns, fraction, message):
    with pytest.raises(SplitError, match=message):
        check_splits(videos, patterns, fraction)


def test_splits_that_work_pass_and_one_video_is_announced():
    assert check_splits(["a", "b"], [], 0.2) is None
    assert check_splits(["a", "park_1"], ["park_*"], 0.2) is None
    assert check_splits(["a"], [], 0.2, {"a": "train"}) is None  # the demo's fixed splits
    assert "its last 20% of frames" in check_splits(["a"], [], 0.2)


def test_nothing_kept_stops_with_one_line_per_video_and_keeps_the_table(tmp_path):
    flows = inputs(tmp_path, {"fast": [2.5] * 99, "shaky": [0.5, 3.0] * 50}, fps=20)
    with pytest.raises(SelectionError) as err:
        select(flows, tmp_path, tmp_path / "selection.csv", SelectionSettings())
    lines = str(err.value).splitlines()
    assert lines[0].startswith("select: no window is kept in split 'test' or 'train'")
    fast = next(line for line in lines if line.lstrip().startswith("fast"))
    assert "20 fps" in fast and "rejected for flow" in fast
    assert "median 2.75 px, 10th percentile 2.75 px, select.threshold 1 px" in fast
    assert any(line.lstrip().startswith("shaky") for line in lines)
    assert "higher frame rate" in str(err.value) and "downsample.factor" in str(err.value)
    assert "interpolate.factor (now 1" in str(err.value)
    assert not (tmp_path / "selection.csv").exists()
    kept = pd.read_csv(tmp_path / "selection.failed.csv")
    assert set(kept["video"]) == {"fast", "shaky"} and not kept["kept"].any()


def test_an_empty_test_split_alone_stops_too(tmp_path):
    flows = inputs(tmp_path, {"calm": [0.3] * 99, "park_fast": [2.5] * 99})
    with pytest.raises(SelectionError, match="split 'test':") as err:
        select(flows, tmp_path, tmp_path / "selection.csv", SelectionSettings(), ["park_*"])
    assert "park_fast (test" in str(err.value) and "calm" not in str(err.value)
    assert "other videos in split.test_videos" in str(err.value)


def test_an_empty_test_stretch_of_one_video_says_what_to_change(tmp_path):
    flows = inputs(tmp_path, {"clip": [0.3] * 239 + [2.5] * 60})
    with pytest.raises(SelectionError, match="split 'test':") as err:
        select(flows, tmp_path, tmp_path / "selection.csv", SelectionSettings())
    assert "clip (test, 240 fps, 60 frames)" in str(err.value)
    assert "a larger split.test_fraction" in str(err.value)


def test_the_report_note_names_the_frames_of_each_split(tmp_path):
    flows = inputs(tmp_path, {"clip": [0.3] * 299, "other": [0.3] * 99})
    sel = select(flows[:1], tmp_path, tmp_path / "selection.csv", SelectionSettings())
    [note] = time_split_notes(sel)
    assert note.startswith("clip is split in time (the only video, no split.test_videos): "
                           "train windows in frames 0-")
    assert "; test windows in frames 240-" in note
    two = select(flows, tmp_path, tmp_path / "selection.csv", SelectionSettings())
    assert time_split_notes(two) == []  # split by video
