"""§2 step 1: decode a video and downsample every frame by 3 (area filter) into a frame store."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from wilddeblur.framestore import write_frames
from wilddeblur.probe import VideoInfo
from wilddeblur.videoio import VideoError, decode_frames


def downsampled_size(width: int, height: int, factor: int) -> tuple[int, int]:
    """Output size for a downsampling factor: rounded to the nearest pixel (1280×720 → 427×240)."""
    return max(1, round(width / factor)), max(1, round(height / factor))


def downsample_video(info: VideoInfo, out: Path, factor: int = 3) -> int:
    """Decode ``info.path`` through one ffmpeg pipe, area-resize by ``factor``, store losslessly.

    Returns the number of frames written. Fewer frames than the probe counted (the file changed
    or is damaged) or fewer than two (no pair to take flow from) is an error; nothing is left at
    ``out`` then.
    """
    w, h = downsampled_size(info.width, info.height, factor)
    bar = tqdm(total=info.frames, desc=f"downsample {Path(info.path).name}", unit="frame",
               mininterval=2)

    def chunks():
        for chunk in decode_frames(Path(info.path), w, h):
            bar.update(len(chunk))
            yield chunk

    attrs = {"fps": info.fps, "source": info.path, "factor": factor}
    n = write_frames(Path(out), chunks(), attrs)
    bar.close()
    problem = (f"decoded {n} frames but the probe counted {info.frames}" if n != info.frames
               else f"only {n} frame(s); at least 2 are needed for flow" if n < 2 else "")
    if problem:
        Path(out).unlink(missing_ok=True)
        raise VideoError(f"{info.path}: {problem}")
    return n
