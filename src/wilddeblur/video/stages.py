"""The video stages as the workflow's scripts and the ``wilddeblur`` command call them: probe a
video, and decode + downsample it into a frame store (with classical flow, in the same pass)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from wilddeblur.fileio import write_csv_atomic, write_text_atomic
from wilddeblur.video.downsample import downsample_video
from wilddeblur.video.probe import VideoInfo, probe

if TYPE_CHECKING:
    from wilddeblur.flow.settings import FlowSettings


def probe_video(video: Path, output: Path, fps: float | None = None, min_fps: float = 0.0,
                warn_fps: float = 120.0, image_fps: float = 240.0) -> VideoInfo:
    """ffprobe ``video`` (or a folder of frames) into ``output`` (JSON)."""
    info = probe(Path(video), fps_override=fps, min_fps=min_fps, warn_fps=warn_fps,
                 image_fps=image_fps)
    write_text_atomic(Path(output), info.to_json())
    return info


def downsample(probe_json: Path, output: Path, factor: int = 3, flow_output: Path | None = None,
               flow: FlowSettings | None = None) -> int:
    """The frame store of the probed video; with ``flow_output``, also its per-pair flow table
    (``flow``'s backend, DIS medium by default), in the same decoding pass."""
    stats = None
    if flow_output:
        from wilddeblur.flow.settings import FlowSettings
        from wilddeblur.flow.stats import PairStatistics

        flow = flow or FlowSettings()
        stats = PairStatistics(flow.make_backend(), flow.region_px, flow.border_px)
    n = downsample_video(VideoInfo.from_json(Path(probe_json)), Path(output), factor, stats)
    if stats is not None:
        write_csv_atomic(stats.table(), Path(flow_output))
    print(f"{output}: {n} frames")
    return n
