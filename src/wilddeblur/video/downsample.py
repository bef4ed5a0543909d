"""§2 step 1: decode a video and downsample every frame by 3 (area filter) into a frame store;
with a classical flow backend, the flow statistics of §2 steps 3–4 in the same pass."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from wilddeblur.video.framestore import write_frames
from wilddeblur.video.io import VideoError, decode_frames, prefetch
from wilddeblur.video.probe import VideoInfo

if TYPE_CHECKING:  # the flow statistics are handed in; video/ needs no flow/ to import
    from wilddeblur.flow.stats import PairStatistics


def downsampled_size(width: int, height: int, factor: int) -> tuple[int, int]:
    """Output size for a downsampling factor: rounded to the nearest pixel (1280×720 → 427×240)."""
    return max(1, round(width / factor)), max(1, round(height / factor))


def downsample_video(info: VideoInfo, out: Path, factor: int = 3,
                     flow: PairStatistics | None = None) -> int:
    """Decode ``info.path`` through one ffmpeg pipe, area-resize by ``factor``, store losslessly.

    Sources of more than 8 bits are stored as 16-bit RGB. With ``flow``, every chunk of frames
    also goes to it as it is decoded: one streaming pass, decoding (in ffmpeg, a chunk ahead)
    overlapping the flow computation.

    Returns the number of frames written (counted by decoding: the number the pipeline uses).
    Fewer than two frames (no pair to take flow from) is an error; nothing is left at ``out``
    then. A count other than the probe's packet count is reported as a warning.
    """
    w, h = downsampled_size(info.width, info.height, factor)
    bar = tqdm(total=info.frames, desc=f"downsample {Path(info.path).name}", unit="frame",
               mininterval=2)

    deep = info.bits_per_sample > 8

    def chunks():
        for chunk in prefetch(decode_frames(Path(info.path), w, h, high_bit_depth=deep)):
            if flow is not None:
                flow.add(chunk)
            bar.update(len(chunk))
            yield chunk

    attrs = {"fps": info.fps, "source": info.path, "factor": factor}
    n = write_frames(Path(out), chunks(), attrs)
    bar.close()
    if n < 2:
        Path(out).unlink(missing_ok=True)
        raise VideoError(f"{info.path}: only {n} frame(s); at least 2 are needed for flow")
    if n != info.frames:
        warnings.warn(f"{info.path}: decoded {n} frames, the container holds {info.frames} "
                      "packets; using the decoded frames", stacklevel=2)
    return n
