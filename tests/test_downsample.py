"""§2 step 1: ffmpeg decode, ×3 area downsampling, lossless frame store."""

import subprocess

import numpy as np
import pytest

from wilddeblur.video.downsample import downsample_video, downsampled_size
from wilddeblur.video.framestore import FrameStore
from wilddeblur.video.io import VideoError, decode_frames
from wilddeblur.video.probe import VideoInfo, probe


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
    subprocess.run(["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "64x48",
                    "-r", "240", "-i", "pipe:", "-c:v", "ffv1", "-pix_fmt", "bgr0", str(src)],
                   input=np.stack([img] * 3).tobytes(), check=True)
    frames = next(decode_frames(src, 32, 24))
    assert np.abs(frames.astype(int) - 128).max() <= 2


def test_decoded_count_is_authoritative_and_a_mismatch_warns(tiny_clip, tmp_path):
    """The file changed (or was cut) between probe and decode."""
    info = probe(tiny_clip)
    cut = tmp_path / "cut.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tiny_clip), "-frames:v", "100", str(cut)],
                   check=True)
    info.path = str(cut)
    with pytest.warns(UserWarning, match="decoded 100 frames, the container holds 240"):
        assert downsample_video(info, tmp_path / "cut.h5") == 100


def test_undecodable_video_leaves_nothing(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"garbage" * 100)
    info = VideoInfo(str(bad), "h264", "yuv420p", 64, 48, 0, 240.0, 10, 8)
    with pytest.raises(VideoError, match="bad.mp4"):
        downsample_video(info, tmp_path / "bad.h5")
    assert not (tmp_path / "bad.h5").exists() and not (tmp_path / "bad.h5.tmp").exists()


def test_one_frame_video_is_refused(tiny_clip, tmp_path):
    one = tmp_path / "one.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tiny_clip), "-frames:v", "1", str(one)],
                   check=True)
    with pytest.raises(VideoError, match="at least 2"):
        downsample_video(probe(one), tmp_path / "one.h5")
    assert not (tmp_path / "one.h5").exists()


def test_ten_bit_source_keeps_its_precision_until_the_final_rounding(tmp_path):
    """Neighbouring 3-px columns one 10-bit level apart (a quarter of an 8-bit level): the
    16-bit store keeps every step; 8-bit decoding would merge them into steps of 257."""
    from wilddeblur.dataset.average import blurry_sharp_pair

    levels = 400 + np.arange(32)  # 10-bit levels, one per column of the downsampled frame
    v16 = np.rint(levels * 65535 / 1023).astype("<u2")
    frame = np.broadcast_to(np.repeat(v16, 3)[None, :, None], (72, 96, 3)).copy()
    frame[..., 1] = frame[..., 1][:, ::-1]  # green runs the other way
    src = tmp_path / "deep.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb48le", "-s",
                    "96x72", "-r", "240", "-i", "pipe:", "-c:v", "ffv1", "-pix_fmt",
                    "gbrp10le", str(src)], input=np.stack([frame] * 3).tobytes(), check=True)
    info = probe(src)
    assert info.bits_per_sample == 10
    downsample_video(info, tmp_path / "deep.h5", factor=3)
    with FrameStore(tmp_path / "deep.h5") as store:
        frames = store[0:3]
    assert frames.dtype == np.uint16 and frames.shape == (3, 24, 32, 3)
    for channel, want in ((0, v16), (1, v16[::-1])):
        got = frames[0, :, :, channel].astype(int)
        assert (got == got[0]).all()  # constant down each column
        assert np.abs(got[0] - want).max() < 64  # within one 10-bit level (swscale's offset)
        steps = np.abs(np.diff(got[0]))
        assert ((steps > 32) & (steps < 100)).all(), steps  # every 10-bit step kept (~64)

    blurry, sharp = blurry_sharp_pair(frames)
    assert blurry.dtype == sharp.dtype == np.uint8
    expected = np.floor(frames.astype(float).mean(0) * 255 / 65535 + 0.5)
    np.testing.assert_array_equal(blurry, expected)
