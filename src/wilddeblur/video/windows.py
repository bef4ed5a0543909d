"""The frames of chosen windows, decoded again from the video when a shard is built (§2 step 2).

No frame store: the flow pass keeps no frames, and a shard decodes, for each of its videos,
just the frames its windows need (a video up to the last of them, an image sequence only their
files), in one pass per video. Memory stays bounded by a window plus the decoder's read-ahead,
whatever the video's length.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from wilddeblur.video.downsample import downsampled_size
from wilddeblur.video.io import decode_frames, prefetch
from wilddeblur.video.probe import VideoInfo


class VideoWindows:
    """Windows ``(start, ne)`` of one video, served in increasing ``start`` order.

    ``windows`` lists every window that will be asked for, so that the decoder knows which
    frames to keep; asking for an earlier window than the last one restarts the decoding.
    """

    def __init__(self, info: VideoInfo, factor: int, windows: Sequence[tuple[int, int]]) -> None:
        self.info = info
        self.size = downsampled_size(info.width, info.height, factor)
        self.windows = set(windows)
        self.needed = sorted({i for start, ne in windows for i in range(start, start + ne)})
        self._frames: Iterator[np.ndarray] | None = None
        self._buffer: dict[int, np.ndarray] = {}
        self._next = 0  # position in ``needed`` of the next frame the decoder delivers
        self._low = 0  # frames before this one were dropped

    def _decode(self) -> Iterator[np.ndarray]:
        w, h = self.size
        for chunk in prefetch(decode_frames(Path(self.info.path), w, h, frames=self.needed,
                                            high_bit_depth=self.info.bits_per_sample > 8),
                              depth=2):
            yield from chunk

    def window(self, start: int, ne: int) -> np.ndarray:
        """Frames ``start … start + ne − 1`` as an (ne, H, W, 3) array.

        Raises ValueError naming the video when the window runs past its last frame.
        """
        if (start, ne) not in self.windows:
            raise ValueError(f"{self.info.path}: window {start}+{ne} was not announced")
        if self._frames is None or start < self._low:
            self.close()
            self._frames, self._next, self._buffer = self._decode(), 0, {}
        self._low = start
        for i in [i for i in self._buffer if i < start]:
            del self._buffer[i]
        while start + ne - 1 not in self._buffer:
            frame = next(self._frames, None)
            if frame is None:
                raise ValueError(f"{self.info.path}: window {start}+{ne} runs past the last "
                                 f"frame (the probe counted {self.info.frames})")
            index = self.needed[self._next]
            self._next += 1
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
