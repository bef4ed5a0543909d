"""The video stage as the workflow's script and the ``wilddeblur`` command call it: probe a
video (its decoding and downsampling happen in the flow stage, :mod:`wilddeblur.flow.stages`)."""

from __future__ import annotations

from pathlib import Path

from wilddeblur.fileio import write_text_atomic
from wilddeblur.video.probe import VideoInfo, probe


def probe_video(video: Path, output: Path, fps: float | None = None, min_fps: float = 0.0,
                warn_fps: float = 120.0, image_fps: float = 240.0) -> VideoInfo:
    """ffprobe ``video`` (or a folder of frames) into ``output`` (JSON)."""
    info = probe(Path(video), fps_override=fps, min_fps=min_fps, warn_fps=warn_fps,
                 image_fps=image_fps)
    write_text_atomic(Path(output), info.to_json())
    return info
