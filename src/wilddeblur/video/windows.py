"""The frames of chosen windows, decoded again from the video when a shard is built (§2 step 2).

No frame store: the flow pass keeps no frames, and a shard decodes, for each of its videos,
just the frames its windows need, in one pass per video: an image sequence reads only their
files; a video is decoded up to the last of them, from the start or, when the first is more
than ``SEEK_AFTER_S`` in and the flow table's fingerprints are at hand, from a seek
``SEEK_LEAD_S`` before it (so a shard late in an hour-long video does not decode the hour). The
fingerprints say which frame the seek landed on and check every frame served: a frame that
differs from the one the flow was computed on is an error, never a silent shift. Memory stays
bounded by a window plus the decoder's read-ahead, whatever the video's length.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from wilddeblur.errors import VideoError
from wilddeblur.video.downsample import downsampled_size
from wilddeblur.video.io import decode_frames, fingerprint, prefetch
from wilddeblur.video.probe import VideoInfo

SEEK_AFTER_S = 2.0  # seek only when the first needed frame lies this far into the video
SEEK_LEAD_S = 0.5  # and land this long before it
PROBE_FRAMES = 8  # frames decoded at the seek point to find where it landed


class VideoWindows:
    """Windows ``(start, ne)`` of one video, served in increasing ``start`` order.

    ``windows`` lists every window that will be asked for, so that the decoder knows which
    frames to keep; asking for an earlier window than the last one restarts the decoding.
    ``fingerprints`` (one per frame, :func:`wilddeblur.flow.stats.frame_fingerprints`) allow
    seeking and check each frame.
    """

    def __init__(self, info: VideoInfo, factor: int, windows: Sequence[tuple[int, int]],
                 fingerprints: np.ndarray | None = None) -> None:
        self.info = info
        self.size = downsampled_size(info.width, info.height, factor)
        self.windows = set(windows)
        self.needed = sorted({i for start, ne in windows for i in range(start, start + ne)})
        self.fingerprints = fingerprints
        self.seeked_to: int | None = None  # the frame the last decoding started at, if it sought
        self._frames: Iterator[tuple[int, np.ndarray]] | None = None
        self._buffer: dict[int, np.ndarray] = {}
        self._low = 0  # frames before this one were dropped

    def _decode_args(self) -> dict:
        w, h = self.size
        return {"path": Path(self.info.path), "width": w, "height": h,
                "high_bit_depth": self.info.bits_per_sample > 8}

    def _seek_point(self) -> tuple[float | None, int]:
        """(seconds to seek to, index of the first frame decoded there); (None, 0) decodes
        from the start: no fingerprints, an image sequence, a first frame near the start, or
        a landing the fingerprints do not pin down to one frame."""
        fps = self.info.stream_fps or self.info.fps  # the container's time, not a capture rate
        first, prints = self.needed[0], self.fingerprints
        if prints is None or Path(self.info.path).is_dir() or first < SEEK_AFTER_S * fps:
            return None, 0
        seek = (first - SEEK_LEAD_S * fps) / fps
        head = list(decode_frames(**self._decode_args(), frames=range(PROBE_FRAMES), seek=seek))
        got = [fingerprint(f) for chunk in head for f in chunk]
        hits = [k for k in np.flatnonzero(prints[: first + 1] == got[0])
                if list(prints[k : k + len(got)]) == got] if got else []
        return (seek, int(hits[0])) if len(hits) == 1 else (None, 0)

    def _decode(self) -> Iterator[tuple[int, np.ndarray]]:
        seek, offset = self._seek_point()
        self.seeked_to = offset if seek is not None else None
        frames = [i - offset for i in self.needed]
        chunks = decode_frames(**self._decode_args(), frames=frames, seek=seek)
        indices = iter(self.needed)
        for chunk in prefetch(chunks, depth=2):
            for frame in chunk:
                index = next(indices)
                if self.fingerprints is not None and index < len(self.fingerprints) and (
                        fingerprint(frame) != self.fingerprints[index]):
                    raise VideoError(f"{self.info.path}: frame {index} decodes differently "
                                     "from when its flow was computed (has the file changed?)")
                yield index, frame

    def window(self, start: int, ne: int) -> np.ndarray:
        """Frames ``start … start + ne − 1`` as an (ne, H, W, 3) array.

        Raises ValueError naming the video when the window runs past its last frame.
        """
        if (start, ne) not in self.windows:
            raise ValueError(f"{self.info.path}: window {start}+{ne} was not announced")
        if self._frames is None or start < self._low:
            self.close()
            self._frames, self._buffer = self._decode(), {}
        self._low = start
        for i in [i for i in self._buffer if i < start]:
            del self._buffer[i]
        while start + ne - 1 not in self._buffer:
            index, frame = next(self._frames, (None, None))
            if index is None:
                raise ValueError(f"{self.info.path}: window {start}+{ne} runs past the last "
                                 f"frame (the probe counted {self.info.frames})")
            if index >= start:
                self._buffer[index] = frame
        return np.stack([self._buffer[i] for i in range(start, start + ne)])

    def close(self) -> None:
        """Stop the decoder (ffmpeg exits); a later :meth:`window` starts it again."""
        if self._frames is not None:
            self._frames.close()
            self._frames = None

    def __enter__(self) -> VideoWindows:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
