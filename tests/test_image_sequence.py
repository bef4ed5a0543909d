"""Folders of frames (image sequences) as inputs, and their bad cases."""

import numpy as np
import pytest
from PIL import Image

from wilddeblur.video.downsample import stream_video
from wilddeblur.video.inputs import resolve_videos
from wilddeblur.video.io import VideoError, decode_frames
from wilddeblur.video.probe import probe


def write_frames(folder, n=6, size=(48, 36), suffix=".png"):
    folder.mkdir()
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (n, size[1], size[0], 3), dtype=np.uint8)
    for i, f in enumerate(frames):
        Image.fromarray(f).save(folder / f"{i:06d}{suffix}")
    return frames


def test_folder_is_probed_and_downsampled_in_name_order(tmp_path):
    frames = write_frames(tmp_path / "seq")
    info = probe(tmp_path / "seq")
    assert (info.width, info.height, info.frames, info.fps, info.codec) == (48, 36, 6, 240.0,
                                                                             "image2")
    assert probe(tmp_path / "seq", fps_override=120.0, warn_fps=0).fps == 120.0
    chunks = []
    assert stream_video(info, 3, chunks.append) == 6
    decoded = np.concatenate(chunks)
    assert decoded.shape == (6, 12, 16, 3)
    # area filter: each output pixel is the mean of a 3x3 block (up to rounding)
    expected = frames[4].reshape(12, 3, 16, 3, 3).mean(axis=(1, 3))
    assert np.abs(decoded[4].astype(float) - expected).max() <= 2
    # a shard reads only the files it needs, and gets the same bytes
    chosen = np.concatenate(list(decode_frames(tmp_path / "seq", 16, 12, frames=[1, 4, 5])))
    np.testing.assert_array_equal(chosen, decoded[[1, 4, 5]])


def test_folders_are_named_after_themselves(tmp_path):
    write_frames(tmp_path / "GOPR0372_07_00")
    assert list(resolve_videos(["*"], base=tmp_path)) == ["GOPR0372_07_00"]


def test_mixed_sizes_name_the_odd_frame(tmp_path):
    write_frames(tmp_path / "seq")
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "seq" / "000003.png")
    with pytest.raises(VideoError, match="000003.png: 10x10, but 000000.png is 48x36"):
        probe(tmp_path / "seq")


def test_mixed_formats_and_unreadable_frames(tmp_path):
    write_frames(tmp_path / "seq")
    Image.fromarray(np.zeros((36, 48, 3), np.uint8)).save(tmp_path / "seq" / "000009.jpg")
    with pytest.raises(VideoError, match="mixed formats"):
        probe(tmp_path / "seq")
    write_frames(tmp_path / "seq2")
    (tmp_path / "seq2" / "000002.png").write_bytes(b"not a png")
    with pytest.raises(VideoError, match="000002.png: not a readable image"):
        probe(tmp_path / "seq2")


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="empty: a folder of frames needs"):
        probe(tmp_path / "empty")


def test_broken_link_is_named(tmp_path):
    (tmp_path / "clip.mp4").symlink_to(tmp_path / "gone.mp4")
    with pytest.raises(VideoError, match="clip.mp4: no such file"):
        probe(tmp_path / "clip.mp4")
