"""Probe a video with ffprobe: frame rate, display size, rotation, codec, frames by decoding."""

from __future__ import annotations

import json
import subprocess
import warnings
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from wilddeblur.videoio import VideoError


@dataclass
class VideoInfo:
    """What the pipeline needs to know about one video (sizes after applying rotation)."""

    path: str
    codec: str
    pix_fmt: str
    width: int
    height: int
    rotation: int
    fps: float
    frames: int
    bits_per_sample: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, path: Path) -> VideoInfo:
        return cls(**json.loads(Path(path).read_text()))


def _rotation(stream: dict) -> int:
    """Rotation in degrees from the display matrix side data or the legacy ``rotate`` tag."""
    for side in stream.get("side_data_list", []):
        if "rotation" in side:
            return int(round(float(side["rotation"]))) % 360
    return int(stream.get("tags", {}).get("rotate", 0)) % 360


def probe(path: Path, fps_override: float | None = None, min_fps: float = 0.0,
          warn_fps: float = 120.0) -> VideoInfo:
    """Read a video's properties; count frames by decoding (container counts can lie).

    Raises :class:`VideoError` naming the file when it is missing, empty, not a video, damaged
    or truncated (any decoding error), has no decodable frame, or its frame rate is below
    ``min_fps``. Warns below ``warn_fps``: averaging frames that far apart makes ghosts
    rather than blur (§2).
    """
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty (0 bytes)")
    cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
           "-show_streams", "-of", "json", str(path)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise VideoError(f"{path}: ffprobe cannot read it: {res.stderr.strip()}")
    if res.stderr.strip():
        first = res.stderr.strip().splitlines()[0]
        raise VideoError(f"{path}: the video is damaged or truncated; ffprobe says: {first}")
    streams = json.loads(res.stdout).get("streams", [])
    if not streams:
        raise VideoError(f"{path}: no video stream")
    s = streams[0]
    frames = int(s.get("nb_read_frames", 0) or 0)
    if frames == 0:
        raise VideoError(f"{path}: no decodable video frame")
    rate = s.get("avg_frame_rate", "0/0")
    if rate in ("0/0", "0/1"):
        rate = s.get("r_frame_rate", "0/0")
    fps = float(fps_override) if fps_override else (
        float(Fraction(rate)) if rate not in ("0/0", "0/1") else 0.0)
    if fps <= 0:
        raise VideoError(f"{path}: unknown frame rate; set an fps override for this video")
    if fps < min_fps:
        raise VideoError(f"{path}: {fps:g} fps is below the configured floor of {min_fps:g} fps")
    if fps < warn_fps:
        warnings.warn(f"{path}: {fps:g} fps; averaging frames this far apart makes ghosts, "
                      f"the paper used 240 fps", stacklevel=2)
    rot = _rotation(s)
    w, h = int(s["width"]), int(s["height"])
    if rot in (90, 270):
        w, h = h, w
    return VideoInfo(
        path=str(path), codec=s.get("codec_name", "?"), pix_fmt=s.get("pix_fmt", "?"),
        width=w, height=h, rotation=rot, fps=fps, frames=frames,
        bits_per_sample=int(s.get("bits_per_raw_sample", 8) or 8),
    )
