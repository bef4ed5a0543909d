"""The video stage as the workflow's script and the ``wilddeblur`` command call it: probe a
video (its decoding and downsampling happen in the flow stage, :mod:`wilddeblur.flow.stages`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from wilddeblur.fileio import write_text_atomic
from wilddeblur.video.probe import VideoInfo, probe


def probe_video(video: Path, output: Path, fps: float | None = None, min_fps: float = 0.0,
                warn_fps: float = 120.0, image_fps: float = 240.0) -> VideoInfo:
    """ffprobe ``video`` (or a folder of frames) into ``output`` (JSON, with its notes: a
    capture rate used, a rate below ``warn_fps``), each note printed on stderr as one line."""
    info = probe(Path(video), fps_override=fps, min_fps=min_fps, warn_fps=warn_fps,
                 image_fps=image_fps)
    write_text_atomic(Path(output), info.to_json())
    for note in info.notes:
        print(f"warning: {note}", file=sys.stderr)
    return info


def probe_notes(probe_jsons: Sequence[Path]) -> list[str]:
    """The notes of every probe, in order (probes written before notes existed have none)."""
    return [note for p in probe_jsons for note in VideoInfo.from_json(Path(p)).notes]
