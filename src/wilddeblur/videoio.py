"""Video reading and writing through ffmpeg (ffmpeg-python builds the command lines)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import ffmpeg
import numpy as np


class VideoError(RuntimeError):
    """A video could not be read or written; the message names the file."""


def encode_h264(path: Path, width: int, height: int, fps: float, crf: int = 14,
                audio_from: Path | None = None) -> subprocess.Popen:
    """Start an ffmpeg process that encodes raw RGB frames written to its stdin as H.264.

    With ``audio_from``, that file's audio streams (if any) are copied into the output.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{width}x{height}", "-r", f"{fps}", "-i", "pipe:"]
    if audio_from is not None:
        cmd += ["-i", str(audio_from), "-map", "0:v", "-map", "1:a?", "-c:a", "copy"]
    cmd += ["-c:v", "libx264", "-crf", str(crf), "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", "-f", "mp4", str(path)]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, path: Path) -> None:
    """Close an encoder's stdin, wait, and raise with ffmpeg's message if it failed."""
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.close()
    err = proc.stderr.read().decode(errors="replace")
    if proc.wait() != 0:
        raise VideoError(f"{path}: ffmpeg failed: {err.strip()}")


def decode_frames(
    path: Path, width: int, height: int, chunk: int = 64
) -> Iterator[np.ndarray]:
    """Decode ``path`` resized to ``width``×``height`` with the area filter; yield RGB chunks.

    One ffmpeg process streams raw frames into a pipe (``-fps_mode passthrough``: no frames are
    duplicated or dropped to a constant rate). Yields arrays ``(n, height, width, 3)`` uint8.
    """
    stream = ffmpeg.input(str(path))
    stream = ffmpeg.output(
        stream.video,
        "pipe:",
        format="rawvideo",
        pix_fmt="rgb24",
        vf=f"scale={width}:{height}:flags=area",
        fps_mode="passthrough",
    )
    cmd = ffmpeg.compile(stream)
    proc = subprocess.Popen(
        [cmd[0], "-nostdin", "-v", "error", *cmd[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    frame_bytes = width * height * 3
    try:
        while True:
            buf = proc.stdout.read(frame_bytes * chunk)
            n = len(buf) // frame_bytes
            if n:
                yield np.frombuffer(buf[: n * frame_bytes], np.uint8).reshape(n, height, width, 3)
            if len(buf) < frame_bytes * chunk:
                break
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        code = proc.wait()
    if code != 0:
        raise VideoError(f"{path}: ffmpeg could not decode the video: {err.strip()}")
