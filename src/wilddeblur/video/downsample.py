"""§2 step 1: decode a video and downsample every frame by 3 (area filter), as a stream of
frame chunks handed to the flow statistics of §2 steps 3–4; no frame is stored."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from wilddeblur.video.io import VideoError, decode_frames, prefetch
from wilddeblur.video.probe import VideoInfo


def downsampled_size(width: int, height: int, factor: int) -> tuple[int, int]:
    """Output size for a downsampling factor: rounded to the nearest pixel (1280×720 → 427×240)."""
    return max(1, round(width / factor)), max(1, round(height / factor))


def stream_video(info: VideoInfo, factor: int, consume: Callable[[np.ndarray], None]) -> int:
    """Decode ``info.path`` through one ffmpeg pipe, area-resize by ``factor``, and hand every
    chunk of frames to ``consume`` as it is decoded (decoding, in ffmpeg, runs a chunk ahead of
    ``consume``). Memory holds a few chunks, whatever the video's length.

    Sources of more than 8 bits come as 16-bit RGB. Returns the number of frames decoded (the
    number the pipeline uses). Fewer than two frames (no pair to take flow from) is an error;
    a count other than the probe's packet count is reported as a warning.
    """
    w, h = downsampled_size(info.width, info.height, factor)
    n = 0
    with tqdm(total=info.frames, desc=f"decode {Path(info.path).name}", unit="frame",
              mininterval=2) as bar:
        for chunk in prefetch(decode_frames(Path(info.path), w, h,
                                            high_bit_depth=info.bits_per_sample > 8)):
            consume(chunk)
            n += len(chunk)
            bar.update(len(chunk))
    if n < 2:
        raise VideoError(f"{info.path}: only {n} frame(s); at least 2 are needed for flow")
    if n != info.frames:
        warnings.warn(f"{info.path}: decoded {n} frames, the container holds {info.frames} "
                      "packets; using the decoded frames", stacklevel=2)
    return n
