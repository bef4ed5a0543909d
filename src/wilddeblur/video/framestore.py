"""The per-video frame store: downsampled frames, lossless, in one HDF5 file.

Why HDF5, one uncompressed chunk per frame: it is lossless (the frames are averaged later, so
no codec may touch them), random access costs one chunk read (windows are read out of order
when shards are built), and h5py is already needed for the shards. Why no compression: on the
demo's 427×240 frames (2-core machine, 480 frames) lossless filters saved little and cost
much: LZF 1.13× smaller but writes at 297 frames/s, gzip-1 1.24× at 148 frames/s, Blosc-LZ4
1.06× at 3,505 frames/s, against 4,485 frames/s uncompressed (reads: 869, 862, 8,807 and
13,882 frames/s). Decoded camera frames are noisy; they do not compress losslessly.
Dataset ``frames``: (N, H, W, 3) RGB, uint8 (uint16 for sources of more than 8 bits);
attributes: fps, source, factor.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import h5py
import numpy as np

from wilddeblur.errors import VideoError
from wilddeblur.fileio import atomic_path


def write_frames(path: Path, chunks: Iterable[np.ndarray], attrs: dict) -> int:
    """Stream frame chunks into a new store, atomically (temp file, then rename)."""
    n = 0
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            dset = None
            for chunk in chunks:
                if dset is None:
                    h, w = chunk.shape[1:3]
                    dset = f.create_dataset("frames", shape=(0, h, w, 3), maxshape=(None, h, w, 3),
                                            dtype=chunk.dtype, chunks=(1, h, w, 3))
                dset.resize(n + len(chunk), axis=0)
                dset[n : n + len(chunk)] = chunk
                n += len(chunk)
            if dset is None:
                raise VideoError(f"{attrs.get('source', path)}: no frame was decoded")
            f.attrs.update({**attrs, "frames": n})
    return n


class FrameStore:
    """Read access to a frame store; usable as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._file = h5py.File(self.path, "r")
            self.frames = self._file["frames"]
        except (OSError, KeyError) as err:
            raise VideoError(f"{self.path}: not a readable frame store ({err})") from err
        self.fps = float(self._file.attrs.get("fps", 0.0))

    def __len__(self) -> int:
        return self.frames.shape[0]

    def __getitem__(self, idx) -> np.ndarray:
        return self.frames[idx]

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> FrameStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
