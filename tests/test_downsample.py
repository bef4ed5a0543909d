"""§2 step 1: ffmpeg decode, ×3 area downsampling, lossless frame store."""

import subprocess

import numpy as np
import pytest

from wilddeblur.downsample import downsample_video, downsampled_size
from wilddeblur.framestore import FrameStore
from wilddeblur.probe import probe
from wilddeblur.videoio import VideoError, decode_frames


def test_paper_size():
    assert downsampled_size(1280, 720, 3) == (427, 240)


def test_store_holds_every_frame_at_a_third_of_the_size(tiny_clip, tmp_path):
    out = tmp_path / "frames.h5"
    n = downsample_video(probe(tiny_clip), out, factor=3)
    with FrameStore(out) as store:
        assert n == len(store) == 240
        assert store.frames.shape[1:] == (72, 128, 3)
        assert store.fps == 240.0
        first = store[0]
    # lossless: identical to what ffmpeg's area filter gives
    direct = next(decode_frames(tiny_clip, 128, 72))[0]
    np.testing.assert_array_equal(first, direct)


def test_area_filter_averages_blocks(tmp_path):
    """A 2-pixel-period stripe pattern downsampled by 2 becomes flat grey."""
    img = np.zeros((48, 64, 3), np.uint8)
    img[:, ::2] = 255
    src = tmp_path / "stripes.mkv"
    proc = subprocess.run(["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                           "-s", "64x48", "-r", "240", "-i", "pipe:", "-c:v", "ffv1",
                           "-pix_fmt", "bgr0", str(src)],
                          input=np.stack([img] * 3).tobytes(), check=True)
    assert proc.returncode == 0
    frames = next(decode_frames(src, 32, 24))
    assert np.abs(frames.astype(int) - 128).max() <= 2


def test_video_shorter_than_probed_is_an_error_and_leaves_nothing(tiny_clip, tmp_path):
    """The file changed (or was cut) between probe and decode."""
    info = probe(tiny_clip)
    cut = tmp_path / "cut.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tiny_clip), "-frames:v", "100", str(cut)],
                   check=True)
    info.path = str(cut)
    out = tmp_path / "cut.h5"
    with pytest.raises(VideoError, match="cut.mp4: decoded 100 frames but the probe counted 240"):
        downsample_video(info, out)
    assert not out.exists()
    assert not (tmp_path / "cut.h5.tmp").exists()


def test_one_frame_video_is_refused(tiny_clip, tmp_path):
    one = tmp_path / "one.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tiny_clip), "-frames:v", "1", str(one)],
                   check=True)
    with pytest.raises(VideoError, match="at least 2"):
        downsample_video(probe(one), tmp_path / "one.h5")
    assert not (tmp_path / "one.h5").exists()
