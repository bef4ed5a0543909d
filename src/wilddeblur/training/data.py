"""Training batches drawn from HDF5 shards.

Each batch is a pure function of (seed, step): which samples, where to crop, whether to flip.
So a resumed run sees exactly the batches an uninterrupted run would, whatever the number of
DataLoader workers. Shard files are opened lazily, once per worker process.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from wilddeblur.dataset.shards import open_shard
from wilddeblur.errors import ConfigError, SplitError


class ShardBatches(Dataset):
    """Item ``step`` is a batch ``(blurry, sharp)``: float32 tensors (B, 3, crop, crop) in [0, 1].

    Augmentation: a random crop, a random horizontal flip and a random transposition (so blur
    of every direction is seen, whatever the directions of the footage), the same for both
    images. With
    ``world`` > 1 (data-parallel training), process ``rank`` reads only its share of each
    batch, samples ``rank, rank + world, ...`` of the batch that one process would draw.
    """

    def __init__(self, shards: list[Path], batch_size: int, crop: int, seed: int,
                 steps: int, rank: int = 0, world: int = 1) -> None:
        if crop % 4:
            raise ConfigError(f"train.crop must be a multiple of 4 (DeblurNet's scales), "
                              f"got {crop}")
        self.shards = [Path(p) for p in shards]
        self.batch_size, self.crop, self.seed, self.steps = batch_size, crop, seed, steps
        self.rank, self.world = rank, world
        self.index: list[tuple[int, int]] = []
        self.sizes: list[tuple[int, int]] = []
        for k, path in enumerate(self.shards):
            with open_shard(path) as f:
                n, h, w, _ = f["blurry"].shape
            if h < crop or w < crop:
                raise ConfigError(f"{path}: images {w}x{h} are smaller than train.crop={crop}")
            self.index += [(k, i) for i in range(n)]
            self.sizes.append((h, w))
        if not self.index:
            raise SplitError("no training sample: the train split is empty")
        self._files: dict[int, h5py.File] = {}

    def __len__(self) -> int:
        return self.steps

    def _file(self, k: int) -> h5py.File:
        if k not in self._files:
            self._files[k] = open_shard(self.shards[k])
        return self._files[k]

    def __getitem__(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, step])
        b = self.batch_size
        picks = rng.integers(0, len(self.index), b)
        u_y, u_x, flips = rng.random(b), rng.random(b), rng.random(b) < 0.5
        transposes = rng.random(b) < 0.5
        blurry, sharp = [], []
        for j in range(self.rank, b, self.world):
            k, i = self.index[picks[j]]
            h, w = self.sizes[k]
            y = int(u_y[j] * (h - self.crop + 1))
            x = int(u_x[j] * (w - self.crop + 1))
            box = np.s_[i, y : y + self.crop, x : x + self.crop]
            f = self._file(k)
            bl, sh = f["blurry"][box], f["sharp"][box]
            if flips[j]:
                bl, sh = bl[:, ::-1], sh[:, ::-1]
            if transposes[j]:
                bl, sh = bl.transpose(1, 0, 2), sh.transpose(1, 0, 2)
            blurry.append(bl)
            sharp.append(sh)
        return to_tensor(np.stack(blurry)), to_tensor(np.stack(sharp))


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 → (N, 3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255)


def batch_loader(dataset: ShardBatches, start_step: int, workers: int) -> DataLoader:
    """Batches ``start_step, start_step + 1, ...`` in order, prefetched by ``workers`` processes."""
    return DataLoader(dataset, batch_size=None, sampler=range(start_step, len(dataset)),
                      num_workers=workers, persistent_workers=False,
                      pin_memory=torch.cuda.is_available())
