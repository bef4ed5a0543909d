"""The flow stage over a frame store (learned backends; classical flow streams with the
decoding, :func:`wilddeblur.video.stages.downsample`)."""

from __future__ import annotations

from pathlib import Path

from wilddeblur.fileio import write_csv_atomic
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.flow.stats import flow_table
from wilddeblur.video.framestore import FrameStore


def flow_stage(frames: Path, output: Path, settings: FlowSettings | None = None) -> None:
    """The per-pair flow table (CSV) of every consecutive pair in the frame store ``frames``."""
    settings = settings or FlowSettings()
    with FrameStore(Path(frames)) as store:
        table = flow_table(store, settings.make_backend(), desc=f"flow {Path(frames).stem}",
                           region_px=settings.region_px,
                           border_px=settings.border_px)
    write_csv_atomic(table, Path(output))
