"""Probe a video with ffprobe: frame rate, display size, rotation, codec, frames by decoding."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

from wilddeblur.errors import VideoError


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
    stream_fps: float = 0.0  # the container's own rate (0: an image sequence), for seeking
    notes: list[str] = field(default_factory=list)  # what the user should know, one line each

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


def bit_depth(stream: dict) -> int:
    """Bits per sample of a video stream: ffprobe's field, else read off the pixel format."""
    bits = int(stream.get("bits_per_raw_sample", 0) or 0)
    if bits:
        return bits
    found = re.search(r"p(9|10|12|14|16)(le|be)$", stream.get("pix_fmt", ""))
    return int(found.group(1)) if found else 8


# Capture-rate tags, as ffprobe shows them: Android (Google, Samsung) slow motion keeps a
# 30 fps stream and writes the rate it captured at into the MP4's metadata. Apple's slow-motion
# originals need none: their stream has the capture rate itself (the slowing is a playback
# recipe), and a clip exported at 30 fps has lost the frames.
CAPTURE_FPS_TAGS = ("com.android.capture.fps",)


def capture_fps(tags: dict) -> tuple[str, float] | None:
    """(tag, rate) of a capture-rate tag among a container's or stream's ``tags``."""
    for key in CAPTURE_FPS_TAGS:
        try:
            rate = float(tags.get(key, ""))
        except ValueError:
            continue
        if rate > 0:
            return key, rate
    return None


def low_fps_note(path: Path, fps: float, warn_fps: float) -> str:
    return (f"{path}: {fps:g} fps, below probe.warn_fps {warn_fps:g}: averaging frames this far "
            "apart makes ghosts (the paper used 240 fps); if the camera recorded faster than "
            "the container says (slow motion), give its rate in fps_override")


def probe(path: Path, fps_override: float | None = None, min_fps: float = 0.0,
          warn_fps: float = 120.0, image_fps: float = 240.0) -> VideoInfo:
    """Read a video's properties without decoding it.

    Frames are counted as the stream's packets, read through the whole file (container
    headers can lie; packets cannot); the downsample stage then counts decoded frames, and its
    count is the one the pipeline uses. Demuxing the whole file also finds truncation.

    Raises :class:`VideoError` naming the file when it is missing, empty, not a video, damaged
    or truncated (any decoding error), has no decodable frame, or its frame rate is below
    ``min_fps``. The frame rate is ``fps_override``, else a capture rate the container records
    (:data:`CAPTURE_FPS_TAGS`, said in ``notes``), else the stream's. A rate below ``warn_fps``
    is said in ``notes``: averaging frames that far apart makes ghosts rather than blur (§2).
    A folder is an image sequence (see :func:`probe_images`), at ``fps_override`` or else
    ``image_fps`` frames per second.
    """
    path = Path(path)
    if path.is_dir():
        return probe_images(path, fps_override or image_fps)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty (0 bytes)")
    cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
           "-show_streams", "-show_format", "-of", "json", str(path)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise VideoError(f"{path}: ffprobe cannot read it: {res.stderr.strip()}")
    if res.stderr.strip():
        first = res.stderr.strip().splitlines()[0]
        raise VideoError(f"{path}: the video is damaged or truncated; ffprobe says: {first}")
    found = json.loads(res.stdout)
    streams = found.get("streams", [])
    if not streams:
        raise VideoError(f"{path}: no video stream")
    s = streams[0]
    frames = int(s.get("nb_read_packets", 0) or 0)
    if frames == 0:
        raise VideoError(f"{path}: no video frame")
    rate = s.get("avg_frame_rate", "0/0")
    if rate in ("0/0", "0/1"):
        rate = s.get("r_frame_rate", "0/0")
    stream_fps = float(Fraction(rate)) if rate not in ("0/0", "0/1") else 0.0
    fps, notes = stream_fps, []
    captured = (capture_fps(found.get("format", {}).get("tags", {}))
                or capture_fps(s.get("tags", {})))
    if fps_override:
        fps = float(fps_override)
    elif captured and captured[1] != stream_fps:
        fps = captured[1]
        notes.append(f"{path}: the stream says {stream_fps:g} fps, its capture rate "
                     f"({captured[0]}) {fps:g} fps: using {fps:g} fps (fps_override sets "
                     "another)")
    if fps <= 0:
        raise VideoError(f"{path}: unknown frame rate; set an fps override for this video")
    if fps < min_fps:
        raise VideoError(f"{path}: {fps:g} fps is below the configured floor of {min_fps:g} fps")
    if fps < warn_fps:
        notes.append(low_fps_note(path, fps, warn_fps))
    rot = _rotation(s)
    w, h = int(s["width"]), int(s["height"])
    if rot in (90, 270):
        w, h = h, w
    return VideoInfo(
        path=str(path), codec=s.get("codec_name", "?"), pix_fmt=s.get("pix_fmt", "?"),
        width=w, height=h, rotation=rot, fps=fps, frames=frames,
        bits_per_sample=bit_depth(s), stream_fps=stream_fps, notes=notes,
    )


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def image_sequence(folder: Path) -> list[Path]:
    """The frames of an image-sequence folder, in name order (ffmpeg's glob order)."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise VideoError(f"{folder}: a folder of frames needs PNG/JPEG/TIFF images; none found")
    suffixes = {p.suffix for p in files}
    if len(suffixes) > 1:
        raise VideoError(f"{folder}: frames of mixed formats ({', '.join(sorted(suffixes))}); "
                         "keep one")
    return files


def probe_images(folder: Path, fps: float) -> VideoInfo:
    """An image sequence (e.g. the all-frames release of GoPro_Large) as a video: every image
    must have the first one's size; the error names the first that does not."""
    from PIL import Image

    files = image_sequence(folder)
    sizes = {}
    for f in files:
        try:
            with Image.open(f) as img:
                sizes[f] = (img.size, img.mode)
        except OSError as err:
            raise VideoError(f"{f}: not a readable image ({err})") from err
    (w, h), mode = sizes[files[0]]
    for f in files[1:]:
        if sizes[f][0] != (w, h):
            raise VideoError(f"{f}: {sizes[f][0][0]}x{sizes[f][0][1]}, but {files[0].name} is "
                             f"{w}x{h}; every frame of {folder} must have one size")
    if len(files) < 2:
        raise VideoError(f"{folder}: one frame; at least 2 are needed")
    return VideoInfo(path=str(folder), codec="image2", pix_fmt=mode, width=w, height=h,
                     rotation=0, fps=float(fps), frames=len(files),
                     bits_per_sample=16 if mode.startswith("I;16") else 8)
