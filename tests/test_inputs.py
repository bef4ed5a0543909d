"""Config `videos`: glob patterns, any-case video suffixes, and patterns that match nothing."""

import pytest

from wilddeblur.video.inputs import resolve_videos


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_video_suffixes_match_in_any_case(tmp_path):
    upper = touch(tmp_path / "videos" / "GX010001.MP4")
    lower = touch(tmp_path / "videos" / "sub" / "park.mp4")
    touch(tmp_path / "videos" / "notes.txt")
    expected = {"GX010001": upper, "park": lower}
    assert resolve_videos(["videos/**/*.mp4"], base=tmp_path) == expected
    assert resolve_videos(["videos/**/*.MP4"], base=tmp_path) == expected
    assert resolve_videos(["videos/**/*.mp4", "videos/**/*.MP4"], base=tmp_path) == expected


def test_a_pattern_matching_nothing_is_a_warning_when_another_matches(tmp_path):
    clip = touch(tmp_path / "videos" / "a.mov")
    with pytest.warns(UserWarning, match=r"'elsewhere/\*\.mkv' match\(es\) no file"):
        assert resolve_videos(["videos/*.mov", "elsewhere/*.mkv"], base=tmp_path) == {"a": clip}


def test_no_pattern_matching_anything_is_an_error_naming_them(tmp_path):
    with pytest.raises(ValueError, match=r"no file matches 'videos/\*\.mp4', 'b/\*\.mov'"):
        resolve_videos(["videos/*.mp4", "b/*.mov"], base=tmp_path)

