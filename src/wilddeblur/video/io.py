"""Video reading and writing through ffmpeg (ffmpeg-python builds the command lines)."""

from __future__ import annotations

import contextlib
import fcntl
import subprocess
import tempfile
import threading
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from queue import Full, Queue

import ffmpeg
import numpy as np

from wilddeblur.errors import VideoError

__all__ = ["VideoError", "add_audio", "decode_frames", "encode_h264", "finish", "fingerprint",
           "prefetch"]

F_SETPIPE_SZ = 1031  # Linux; fcntl.F_SETPIPE_SZ names it from Python 3.10 on


def encode_h264(path: Path, width: int, height: int, fps: float, crf: int = 14,
                container: str = "mp4", *, bitrate: str | None = None,
                gop: int | None = None) -> subprocess.Popen:
    """Start an ffmpeg process that encodes raw RGB frames written to its stdin as H.264;
    ``container`` is ffmpeg's format name (mp4, mov, matroska). With ``bitrate`` (ffmpeg's
    ``-b:v``, e.g. "6M") instead of constant quality ``crf``, and with ``gop``, a key frame
    every ``gop`` frames and no B-frames, as cameras encode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = ["-b:v", bitrate] if bitrate else ["-crf", str(crf)]
    keys = (["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-bf", "0"]
            if gop else [])
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{width}x{height}", "-r", f"{fps}", "-i", "pipe:",
           "-c:v", "libx264", *rate, *keys, "-preset", "veryfast", "-pix_fmt", "yuv420p",
           "-movflags", "+faststart", "-f", container, str(path)]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)


# Audio codecs that MP4 and QuickTime hold as they are (not PCM, FLAC, Vorbis, ...).
MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "alac"}


def audio_codecs(path: Path) -> list[str]:
    """The codec of each audio stream of a file (none for images and silent videos)."""
    res = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries",
                          "stream=codec_name", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True)
    return res.stdout.split()


def add_audio(video: Path, source: Path, dest: Path, container: str = "mp4") -> str | None:
    """Write ``video`` with ``source``'s audio to ``dest`` (the video stream copied as is).

    Audio the container holds is copied; other audio (PCM or FLAC into MP4) is encoded as AAC,
    and where that fails too, ``video`` is written alone. Returns a warning then, else None.
    """
    codecs = audio_codecs(source)
    if not codecs:
        Path(video).replace(dest)
        return None
    copy = container == "matroska" or set(codecs) <= MP4_AUDIO
    err = ""
    for audio in (["copy", "aac"] if copy else ["aac"]):
        res = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(video),
                              "-i", str(source), "-map", "0:v", "-map", "1:a", "-c:v", "copy",
                              "-c:a", audio, "-movflags", "+faststart", "-f", container,
                              str(dest)], capture_output=True, text=True)
        if res.returncode == 0:
            Path(video).unlink()
            return None
        err = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "failed"
    Path(video).replace(dest)
    return (f"{source}: its audio ({', '.join(codecs)}) could be neither copied nor encoded as "
            f"AAC, so {dest.name} has no sound (ffmpeg: {err})")


def finish(proc: subprocess.Popen, path: Path) -> None:
    """Close an encoder's stdin, wait, and raise with ffmpeg's message if it failed."""
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.close()
    err = proc.stderr.read().decode(errors="replace")
    if proc.wait() != 0:
        raise VideoError(f"{path}: ffmpeg failed: {err.strip()}")


def prefetch(items: Iterator, depth: int = 4) -> Iterator:
    """Run an iterator in a background thread, ``depth`` items ahead (pipe reads release the
    GIL, so decoding goes on while the caller computes). Errors reach the caller."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        queue.put(item, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    break
        except BaseException as err:  # handed to the consumer
            queue.put(err)
        else:
            queue.put(done)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()
        close = getattr(items, "close", None)
        if close is not None:
            close()


def fingerprint(frame: np.ndarray) -> int:
    """CRC-32 of a decoded, downsampled frame's bytes: the flow table keeps one per frame so
    that a shard, decoding the video again, can check that it gets the very same frames."""
    return zlib.crc32(np.ascontiguousarray(frame).data)


def frame_ranges(indices: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted frame indices as inclusive runs: [3, 4, 5, 9] → [(3, 5), (9, 9)]."""
    runs: list[tuple[int, int]] = []
    for i in sorted(set(indices)):
        if runs and i == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _input(path: Path, frames: Sequence[int] | None, listing: Path, seek: float | None):
    """ffmpeg's input: the video (from ``seek`` seconds on), or an image sequence's files (only
    ``frames`` of them)."""
    if not Path(path).is_dir():
        return ffmpeg.input(str(path), **({"ss": f"{seek:.6f}"} if seek else {}))
    from wilddeblur.video.probe import image_sequence

    files = image_sequence(Path(path))
    if frames is None:  # every image, in name order
        return ffmpeg.input(str(Path(path) / f"*{files[0].suffix}"), format="image2",
                            pattern_type="glob")
    chosen = [files[i] for i in sorted(set(frames)) if i < len(files)]
    listing.write_text("".join(f"file '{f.resolve()}'\n" for f in chosen))
    return ffmpeg.input(str(listing), format="concat", safe=0)


def decode_frames(
    path: Path, width: int, height: int, chunk: int = 32, high_bit_depth: bool = False,
    frames: Sequence[int] | None = None, seek: float | None = None,
) -> Iterator[np.ndarray]:
    """Decode ``path`` resized to ``width``×``height`` with the area filter; yield RGB chunks.

    One ffmpeg process streams raw frames into a pipe (``-fps_mode passthrough``: no frames are
    duplicated or dropped to a constant rate), read straight into fresh arrays (no extra copy;
    a 1 MiB pipe). Yields arrays ``(n, height, width, 3)``: uint8, or with ``high_bit_depth``
    uint16 (for 10- and 12-bit sources, so that their precision survives until the rounding of
    the averaged image).

    With ``frames`` (indices in decoding order), only those frames come out, in increasing
    order: a video is decoded up to the last of them (ffmpeg's ``select`` drops the others
    before they are scaled), an image sequence reads only their files. Each frame is the same,
    byte for byte, as in a full decode. With ``seek`` (seconds; videos only), decoding starts
    at the keyframe before that time and frames are counted from the first one at or after it
    (ffmpeg's accurate input seeking).
    """
    dtype, pix_fmt = (np.uint16, "rgb48le") if high_bit_depth else (np.uint8, "rgb24")
    # exact area averaging in RGB: without the full-chroma flags swscale goes through
    # subsampled chroma internally (errors of 25 levels on fine colour detail)
    vf = f"scale={width}:{height}:flags=area+accurate_rnd+full_chroma_int+full_chroma_inp"
    limit = {}
    if frames is not None:
        runs = frame_ranges(frames)
        if not runs:
            return
        limit = {"frames:v": sum(b - a + 1 for a, b in runs)}  # stop after the last one
        if not Path(path).is_dir():
            vf = "select='" + "+".join(f"between(n\\,{a}\\,{b})" for a, b in runs) + "'," + vf
    with tempfile.TemporaryDirectory() as tmp:
        stream = ffmpeg.output(_input(path, frames, Path(tmp) / "files.txt", seek).video, "pipe:",
                               format="rawvideo", pix_fmt=pix_fmt, vf=vf,
                               fps_mode="passthrough", **limit)
        yield from _read_pipe(ffmpeg.compile(stream), path, width, height, chunk, dtype)


def _read_pipe(cmd: list[str], path: Path, width: int, height: int, chunk: int,
               dtype: type) -> Iterator[np.ndarray]:
    """Run an ffmpeg command that writes raw frames to stdout; yield them in chunks."""
    proc = subprocess.Popen(
        [cmd[0], "-nostdin", "-v", "error", *cmd[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    assert proc.stdout is not None and proc.stderr is not None
    with contextlib.suppress(OSError):  # Linux only; a bigger pipe halves the context switches
        fcntl.fcntl(proc.stdout.fileno(), F_SETPIPE_SZ, 1 << 20)
    frame_bytes = width * height * 3 * np.dtype(dtype).itemsize
    try:
        while True:
            frames = np.empty((chunk, height, width, 3), dtype)
            view, got = memoryview(frames).cast("B"), 0
            while got < view.nbytes:
                n = proc.stdout.readinto(view[got:])
                if not n:
                    break
                got += n
            if got >= frame_bytes:
                yield frames[: got // frame_bytes]
            if got < view.nbytes:
                break
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        code = proc.wait()
    if code != 0:
        raise VideoError(f"{path}: ffmpeg could not decode the video: {err.strip()}")
