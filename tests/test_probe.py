"""ffprobe: properties and clear errors that name the file."""

import subprocess

import pytest

from wilddeblur.video.io import VideoError
from wilddeblur.video.probe import VideoInfo, probe


def test_properties(tiny_clip, tmp_path):
    info = probe(tiny_clip)
    assert info.codec == "h264" and info.rotation == 0 and info.bits_per_sample == 8
    (tmp_path / "p.json").write_text(info.to_json())
    assert VideoInfo.from_json(tmp_path / "p.json") == info


def test_fps_override_and_floor(tiny_clip):
    assert probe(tiny_clip, fps_override=120.0, warn_fps=0).fps == 120.0
    with pytest.raises(VideoError, match="below the configured floor"):
        probe(tiny_clip, min_fps=300)


def test_low_frame_rate_is_noted(tiny_clip):
    [note] = probe(tiny_clip, fps_override=30.0).notes
    assert "30 fps, below probe.warn_fps 120: averaging frames this far apart makes ghosts" in note
    assert probe(tiny_clip).notes == []  # 240 fps


def test_rotation_swaps_the_display_size(tiny_clip, tmp_path):
    rotated = tmp_path / "rot.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tiny_clip), "-c", "copy",
                    "-metadata:s:v:0", "rotate=90", str(rotated)], check=True)
    info = probe(rotated)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (216, 384)


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"this is not a video at all" * 40, "ffprobe cannot read it|no video stream"),
])
def test_bad_files_are_named(tmp_path, content, message):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    with pytest.raises(VideoError, match=message) as err:
        probe(bad)
    assert str(bad) in str(err.value)


def test_truncated_file_is_named(tiny_clip, tmp_path):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(tiny_clip.read_bytes()[: tiny_clip.stat().st_size // 3])
    with pytest.raises(VideoError, match="damaged or truncated") as err:
        probe(cut)
    assert str(cut) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(VideoError, match="no such file"):
        probe(tmp_path / "nope.mp4")


def test_audio_only_file_has_no_video_stream(tmp_path):
    audio = tmp_path / "tone.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=duration=0.2",
                    str(audio)], check=True)
    with pytest.raises(VideoError, match="no video stream"):
        probe(audio)
