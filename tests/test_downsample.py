"""§2 step 1: ffmpeg decode and ×3 area downsampling, as a stream (no frame is stored), and
decoding again just the frames a shard's windows need."""

import subprocess

import numpy as np
import pytest

from wilddeblur.video.downsample import downsampled_size, stream_video
from wilddeblur.video.io import VideoError, decode_frames, frame_ranges
from wilddeblur.video.probe import VideoInfo, probe
from wilddeblur.video.windows import VideoWindows


def streamed(info: VideoInfo, factor: int = 3) -> np.ndarray:
    chunks = []
    assert stream_video(info, factor, chunks.append) == sum(map(len, chunks))
    return np.concatenate(chunks)


def test_paper_size():
    assert downsampled_size(1280, 720, 3) == (427, 240)


def test_stream_hands_over_every_frame_at_a_third_of_the_size(tiny_clip):
    frames = streamed(probe(tiny_clip))
    assert frames.shape == (240, 72, 128, 3)
    # identical to what ffmpeg's area filter gives
    direct = next(decode_frames(tiny_clip, 128, 72))[0]
    np.testing.assert_array_equal(frames[0], direct)


@pytest.fixture(scope="module")
def full_decode(tiny_clip):
    return np.concatenate(list(decode_frames(tiny_clip, 128, 72)))


def test_chosen_frames_are_those_of_a_full_decode_byte_for_byte(tiny_clip, full_decode):
    chosen = [*range(3, 10), *range(8, 20), 57, *range(200, 223)]  # overlapping, out of order
    got = np.concatenate(list(decode_frames(tiny_clip, 128, 72, frames=chosen[::-1])))
    np.testing.assert_array_equal(got, full_decode[sorted(set(chosen))])
    assert frame_ranges(chosen) == [(3, 19), (57, 57), (200, 222)]


def test_windows_are_served_in_order_overlapping_or_not(tiny_clip, full_decode):
    windows = [(0, 7), (4, 9), (30, 23), (30, 7), (217, 23)]
    with VideoWindows(probe(tiny_clip), 3, windows) as source:
        for start, ne in windows:
            np.testing.assert_array_equal(source.window(start, ne),
                                          full_decode[start : start + ne])
        # an earlier window again: the decoding starts over
        np.testing.assert_array_equal(source.window(4, 9), full_decode[4:13])
        assert source._buffer.keys() <= set(range(4, 13))  # nothing older is held


def test_a_window_past_the_end_or_not_announced_is_named(tiny_clip):
    with VideoWindows(probe(tiny_clip), 3, [(230, 11), (0, 7)]) as source:
        with pytest.raises(ValueError, match=r"tiny|demo-train-a.mp4: window 230\+11 runs past"):
            source.window(230, 11)
        with pytest.raises(ValueError, match=r"window 1\+7 was not announced"):
            source.window(1, 7)


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
        assert stream_video(info, 3, lambda chunk: None) == 100


def test_undecodable_video_is_named(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"garbage" * 100)
    info = VideoInfo(str(bad), "h264", "yuv420p", 64, 48, 0, 240.0, 10, 8)
    with pytest.raises(VideoError, match="bad.mp4"):
        stream_video(info, 3, lambda chunk: None)


def test_one_frame_video_is_refused(tiny_clip, tmp_path):
    one = tmp_path / "one.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tiny_clip), "-frames:v", "1", str(one)],
                   check=True)
    with pytest.raises(VideoError, match="at least 2"):
        stream_video(probe(one), 3, lambda chunk: None)


def test_ten_bit_source_keeps_its_precision_until_the_final_rounding(tmp_path):
    """Neighbouring 3-px columns one 10-bit level apart (a quarter of an 8-bit level): the
    16-bit frames keep every step; 8-bit decoding would merge them into steps of 257."""
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
    frames = streamed(info)
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


@pytest.fixture(scope="module")
def fingerprints(full_decode):
    from wilddeblur.video.io import fingerprint

    return np.array([fingerprint(f) for f in full_decode], np.int64)


def test_a_late_window_seeks_and_gets_the_same_frames(tiny_clip, full_decode, fingerprints,
                                                      monkeypatch):
    from wilddeblur.video import windows

    monkeypatch.setattr(windows, "SEEK_AFTER_S", 0.25)  # the clip lasts 1 s
    with VideoWindows(probe(tiny_clip), 3, [(150, 21), (171, 9)], fingerprints) as source:
        np.testing.assert_array_equal(source.window(150, 21), full_decode[150:171])
        np.testing.assert_array_equal(source.window(171, 9), full_decode[171:180])
        # it sought: decoding started SEEK_LEAD_S (120 frames) before frame 150, not at 0
        assert source.seeked_to is not None and 0 < source.seeked_to <= 150


def test_seeking_uses_the_containers_time_not_a_stated_rate(tiny_clip, full_decode,
                                                            fingerprints, monkeypatch):
    """A video whose rate is not the stream's (a capture rate, fps_override: here 30 fps for a
    240 fps stream) seeks in the stream's seconds: it still lands before frame 150."""
    from dataclasses import replace

    from wilddeblur.video import windows

    monkeypatch.setattr(windows, "SEEK_AFTER_S", 0.25)
    info = replace(probe(tiny_clip), fps=30.0)
    with VideoWindows(info, 3, [(150, 21)], fingerprints) as source:
        np.testing.assert_array_equal(source.window(150, 21), full_decode[150:171])
        assert source.seeked_to is not None and 0 < source.seeked_to <= 150


def test_a_frame_unlike_the_flow_pass_s_is_an_error_not_a_shift(tiny_clip, fingerprints):
    altered = fingerprints.copy()
    altered[12] += 1
    with VideoWindows(probe(tiny_clip), 3, [(10, 7)], altered) as source:
        with pytest.raises(VideoError, match="frame 12 decodes differently"):
            source.window(10, 7)


def test_a_landing_the_fingerprints_cannot_place_decodes_from_the_start(
        tiny_clip, fingerprints, monkeypatch):
    from wilddeblur.video import windows

    monkeypatch.setattr(windows, "SEEK_AFTER_S", 0.25)
    with VideoWindows(probe(tiny_clip), 3, [(200, 7)], fingerprints) as source:
        seek, landed = source._seek_point()
    assert seek is not None and windows.PROBE_FRAMES <= landed <= 200
    repeated = fingerprints.copy()  # the frames at the landing seen twice in the video
    repeated[: windows.PROBE_FRAMES] = fingerprints[landed : landed + windows.PROBE_FRAMES]
    with VideoWindows(probe(tiny_clip), 3, [(200, 7)], repeated) as source:
        assert source._seek_point() == (None, 0)
