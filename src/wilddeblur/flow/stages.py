"""The flow stage as the workflow's script and the ``wilddeblur`` command call it: one decoding
pass over a video (§2 step 1's downsampling), the flow of every consecutive pair in the same
pass (§2 steps 3–4), and no frame kept."""

from __future__ import annotations

from pathlib import Path

from wilddeblur.fileio import write_csv_atomic
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.flow.skip import SkipRule
from wilddeblur.flow.stats import PairStatistics
from wilddeblur.video.downsample import stream_video
from wilddeblur.video.probe import VideoInfo


def flow_stage(probe_json: Path, output: Path, factor: int = 3,
               settings: FlowSettings | None = None, threads: int = 1,
               skip: SkipRule | None = None) -> int:
    """The per-pair flow table (CSV) of the probed video, downsampled by ``factor``, with
    ``settings``' backend (DIS medium by default) on ``threads`` threads (classical backends;
    ffmpeg decodes beside them), skipping the pairs that cannot change a selection under the
    ``skip`` rule when ``settings.skip``; returns the number of frames decoded."""
    settings = settings or FlowSettings()
    with PairStatistics(settings.make_backends(threads), settings.region_px,
                        settings.border_px, skip if settings.skip else None,
                        settings.evidence) as stats:
        n = stream_video(VideoInfo.from_json(Path(probe_json)), factor, stats.add)
    table = stats.table()
    write_csv_atomic(table, Path(output))
    print(f"{output}: {n - 1} pairs, {int(table['skipped'].sum())} skipped"
          + (f" ({stats.skip.describe()})" if stats.skip else ""))
    return n
