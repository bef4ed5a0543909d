"""The workflow's inputs: the user's videos (paths or glob patterns) or the embedded demo."""

from __future__ import annotations

import glob
import re
import warnings
from pathlib import Path

from wilddeblur.errors import ConfigError
from wilddeblur.video.demo import clip_spec

NAME_OK = re.compile(r"^[A-Za-z0-9._+-]+$")
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mts", ".m2ts"}


def suffix_any_case(pattern: str) -> str:
    """``pattern`` with a video suffix matched in any case (``*.mp4`` also finds ``GX01.MP4``)."""
    head, dot, suffix = pattern.rpartition(".")
    if not dot or "/" in suffix or f".{suffix.lower()}" not in VIDEO_SUFFIXES:
        return pattern
    return head + dot + "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c
                                for c in suffix)


def resolve_videos(patterns: list[str], base: Path = Path(".")) -> dict[str, Path]:
    """Video name → path, for every file the patterns match (name = file stem) and every folder
    (an image sequence; name = folder name), sorted by name.

    Video suffixes match in any case. A pattern that matches nothing is named in a warning, and
    is an error only when no pattern matches anything. Errors name the files whose names
    collide or cannot be used as a name in the results tree.
    """
    videos: dict[str, Path] = {}
    empty = []
    for pattern in patterns:
        full = str(base / pattern) if not Path(pattern).is_absolute() else pattern
        matches = sorted(Path(p) for p in glob.glob(suffix_any_case(full), recursive=True))
        if not matches:
            empty.append(pattern)
        for path in matches:
            name = path.name if path.is_dir() else path.stem
            if not NAME_OK.match(name):
                raise ConfigError(f"videos: {path}: rename it; only letters, digits and ._+- may "
                                  "appear in a video's name")
            if name in videos and videos[name] != path:
                raise ConfigError(f"videos: {videos[name]} and {path} have the same name {name!r}")
            videos[name] = path
    if not videos:
        raise ConfigError(f"videos: no file matches {', '.join(map(repr, patterns))}")
    if empty:
        warnings.warn(f"videos: {', '.join(map(repr, empty))} match(es) no file", stacklevel=2)
    return dict(sorted(videos.items()))


def demo_videos(clips: list[str], folder: str = "results/demo") -> dict[str, Path]:
    """Demo clip name → where the workflow renders it."""
    for clip in clips:
        clip_spec(clip)  # a clear error for an unknown name
    return {c: Path(folder) / f"{c}.mp4" for c in clips}


def demo_splits(clips: list[str]) -> dict[str, str]:
    """The fixed split of each demo clip (test clips use other photos)."""
    return {c: clip_spec(c).split for c in clips}
