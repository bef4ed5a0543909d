"""Shift-invariant synthetic blur for DeblurNetSI (paper §4): training batches and a test shard.

DeblurNetSI is DeblurNet trained on sharp images convolved with kernels of the bank of
:mod:`wilddeblur.dataset.kernels`, plus Gaussian noise (σ = 0.01 as in Chakrabarti, ECCV 2016). The
paper used 50K WILD sharp frames and 100K Cityscapes images; here the sharp images are the
``sharp`` images of the WILD train shards plus, optionally, any folders of PNG/JPEG images.

* **Blur model.** ``blurry = clip(k ∗ sharp + n, 0, 1)`` with ``n ~ N(0, σ²)`` i.i.d. per pixel
  and channel, ``∗`` a true convolution (so a point light becomes the kernel itself, not its
  mirror image), the same kernel on the three channels, on sRGB values in [0, 1] (the paper is
  silent on gamma; Chakrabarti blurs the stored values). No 8-bit rounding in training batches.
* **No borders.** A crop of ``crop + 40`` is taken and convolved "valid", leaving ``crop × crop``
  pixels that each saw the whole 41×41 kernel; the sharp target is the central ``crop × crop``
  of the same crop, aligned with the blurry one because each kernel's centroid is its centre.
* **FFT.** The convolution is ``irfft2(rfft2(x) · rfft2(k))`` at the crop's own size: a circular
  convolution whose valid part (from index 40 on) is free of wrap-around, so no padding is
  needed. It is faster than ``conv2d`` with a per-sample 41×41 kernel at training crop sizes
  (``benchmarks/si_blur.py``, docs/benchmarks.md); :func:`blur_valid_direct` is kept as the
  reference. Both run on whatever device the tensors are on (:func:`blur_valid`).
* **Sampling.** Each sample of a batch picks an image uniformly among all images (shards and
  folders together, as the paper pools its two sources), a crop position uniformly, a
  horizontal flip with probability ½ and a kernel uniformly among the bank's *training*
  kernels (its first 90 % by default; :func:`wilddeblur.dataset.kernels.split_indices`). These
  draws
  come from ``numpy.random.default_rng([seed, step])`` (:meth:`SIBatches.plan`), the noise from
  ``default_rng([seed, step, 1])``: a batch is a pure function of
  ``(seed, step)`` and the input files, so a resumed run sees exactly the batches an
  uninterrupted one would, whatever the number of DataLoader workers.

:func:`write_si_test_shard` blurs whole sharp images (e.g. the WILD test split's) with
held-out kernels into a shard of :mod:`wilddeblur.dataset.shards`'s format, which ``manifest``,
``inspect`` and ``evaluate`` read like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from wilddeblur import __version__
from wilddeblur.dataset.kernels import KERNEL_SIZE, bank_split, open_kernel_bank
from wilddeblur.dataset.shards import FORMAT_VERSION, META_COLUMNS, open_shard
from wilddeblur.errors import ConfigError
from wilddeblur.fileio import atomic_path
from wilddeblur.training.data import to_tensor
from wilddeblur.video.eightbit import to_uint8

MARGIN = KERNEL_SIZE - 1  # pixels lost by a 'valid' convolution (20 on each side)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
NOISE_SIGMA = 0.01


def blur_valid(x: Tensor, kernels: Tensor) -> Tensor:
    """'Valid' convolution (true convolution) of each image with its own kernel, by FFT.

    ``x`` (B, C, H, W), ``kernels`` (B, K, K) on the same device → (B, C, H-K+1, W-K+1): pixel
    ``(y, x)`` of the output is ``Σ_{u,v} k[u, v] · x[y + K-1 - u, x + K-1 - v]``.
    """
    if x.ndim != 4 or kernels.ndim != 3 or kernels.shape[0] != x.shape[0]:
        raise ValueError(f"need x (B, C, H, W) and kernels (B, K, K), got {tuple(x.shape)} "
                         f"and {tuple(kernels.shape)}")
    h, w = x.shape[-2:]
    kh, kw = kernels.shape[-2:]
    if h < kh or w < kw:
        raise ValueError(f"images {h}x{w} are smaller than the {kh}x{kw} kernel")
    spectrum = torch.fft.rfft2(x) * torch.fft.rfft2(kernels.to(x.dtype), s=(h, w)).unsqueeze(1)
    return torch.fft.irfft2(spectrum, s=(h, w))[..., kh - 1:, kw - 1:]


def blur_valid_direct(x: Tensor, kernels: Tensor) -> Tensor:
    """The same as :func:`blur_valid` by direct (grouped) convolution: the reference, and the
    faster choice only for tiny images."""
    b, c, h, w = x.shape
    weight = kernels.to(x.dtype).flip(-1, -2).repeat_interleave(c, 0).unsqueeze(1)
    out = torch.nn.functional.conv2d(x.reshape(1, b * c, h, w), weight, groups=b * c)
    return out.reshape(b, c, *out.shape[-2:])


def image_files(folders: Sequence[Path]) -> list[Path]:
    """Every PNG/JPEG under ``folders`` (recursively), in a fixed (sorted) order."""
    files = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: no such folder of sharp images")
        files += sorted(p for p in folder.rglob("*")
                        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    return files


def read_rgb(path: Path) -> np.ndarray:
    """An image file as (H, W, 3) uint8 RGB (grey and RGBA are converted)."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _image_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:  # reads the header only
        w, h = im.size
    return h, w


class SIBatches(Dataset):
    """Item ``step`` is a batch ``(blurry, sharp)``: float32 tensors (B, 3, crop, crop) in [0, 1].

    ``shards``: WILD shards whose ``sharp`` images are used (their ``blurry`` ones are not);
    ``image_dirs``: folders of sharp PNG/JPEG images (images smaller than ``crop + 40`` in
    either side are skipped, with a note). ``bank``: a kernel bank; only its training indices
    are drawn. ``noise_sigma``: σ of the added Gaussian noise, on the [0, 1] scale.
    """

    def __init__(self, bank: Path, batch_size: int, crop: int, seed: int, steps: int,
                 shards: Sequence[Path] = (), image_dirs: Sequence[Path] = (),
                 noise_sigma: float = NOISE_SIGMA) -> None:
        if crop % 4:
            raise ValueError(f"train.crop must be a multiple of 4 (DeblurNet's scales), got {crop}")
        if noise_sigma < 0:
            raise ValueError(f"noise_sigma must be >= 0, got {noise_sigma}")
        self.bank = Path(bank)
        self.shards = [Path(p) for p in shards]
        self.batch_size, self.crop, self.seed, self.steps = batch_size, crop, seed, steps
        self.noise_sigma = float(noise_sigma)
        self.size = crop + MARGIN
        self.train_kernels, _ = bank_split(self.bank)
        # index: (source, item, height, width); source k >= 0 is shard k, -1 is self.files
        self.index: list[tuple[int, int, int, int]] = []
        for k, path in enumerate(self.shards):
            with open_shard(path) as f:
                n, h, w, _ = f["sharp"].shape
            if h < self.size or w < self.size:
                raise ConfigError(f"{path}: images {w}x{h} are smaller than train.crop + "
                                  f"{MARGIN} = {self.size} (the blur needs a margin)")
            self.index += [(k, i, h, w) for i in range(n)]
        self.files: list[Path] = []
        small = 0
        for path in image_files(image_dirs):
            h, w = _image_size(path)
            if h < self.size or w < self.size:
                small += 1
                continue
            self.index.append((-1, len(self.files), h, w))
            self.files.append(path)
        if small:
            print(f"SIBatches: skipped {small} image(s) smaller than {self.size}x{self.size}")
        if not self.index:
            raise ValueError("no sharp image to blur: no shard and no usable image file")
        self._files: dict[int, h5py.File] = {}
        self._bank: h5py.File | None = None

    def __len__(self) -> int:
        return self.steps

    def __getstate__(self) -> dict:  # open HDF5 handles never travel to worker processes
        state = self.__dict__.copy()
        state["_files"], state["_bank"] = {}, None
        return state

    def _file(self, k: int) -> h5py.File:
        if k not in self._files:
            self._files[k] = open_shard(self.shards[k])
        return self._files[k]

    def kernel(self, j: int) -> np.ndarray:
        if self._bank is None:
            self._bank = open_kernel_bank(self.bank)
        return self._bank["kernels"][j]

    def plan(self, step: int) -> list[dict]:
        """The random choices of batch ``step``: image, crop corner, flip and kernel per sample."""
        rng = np.random.default_rng([self.seed, step])
        picks = rng.integers(0, len(self.index), self.batch_size)
        out = []
        for p in picks:
            source, item, h, w = self.index[p]
            y = int(rng.integers(0, h - self.size + 1))
            x = int(rng.integers(0, w - self.size + 1))
            flip = bool(rng.random() < 0.5)
            kernel = self.train_kernels[int(rng.integers(0, len(self.train_kernels)))]
            out.append({"source": source, "item": item, "y": y, "x": x, "flip": flip,
                        "kernel": kernel})
        return out

    def _crop(self, d: dict) -> np.ndarray:
        box = np.s_[d["y"]: d["y"] + self.size, d["x"]: d["x"] + self.size]
        if d["source"] >= 0:
            img = self._file(d["source"])["sharp"][(d["item"], *box)]
        else:
            img = read_rgb(self.files[d["item"]])[box]
        return img[:, ::-1] if d["flip"] else img

    def __getitem__(self, step: int) -> tuple[Tensor, Tensor]:
        plan = self.plan(step)
        padded = to_tensor(np.stack([self._crop(d) for d in plan]))
        kernels = torch.from_numpy(np.stack([self.kernel(d["kernel"]) for d in plan]))
        blurry = blur_valid(padded, kernels)
        half = MARGIN // 2
        sharp = padded[..., half: half + self.crop, half: half + self.crop].contiguous()
        if self.noise_sigma > 0:
            rng = np.random.default_rng([self.seed, step, 1])  # after (and apart from) the plan
            noise = rng.standard_normal(blurry.shape, dtype=np.float32) * self.noise_sigma
            blurry = blurry + torch.from_numpy(noise)
        return blurry.clamp_(0, 1), sharp


class ShardSharpImages(Sequence):
    """The ``sharp`` images of some shards as one lazy sequence, with their (video, center).

    Shards may hold images of different sizes (videos of different resolutions); every image
    is then cropped about its centre to the smallest height and width among them, so that the
    sequence can fill one shard.
    """

    def __init__(self, shards: Sequence[Path], max_images: int | None = None) -> None:
        self.shards = [Path(p) for p in shards]
        self.items: list[tuple[int, int]] = []
        sizes = []
        for k, path in enumerate(self.shards):
            with open_shard(path) as f:
                n, h, w, _ = f["sharp"].shape
            self.items += [(k, i) for i in range(n)]
            sizes += [(h, w)] * n
        self.items = self.items[:max_images]
        sizes = sizes[:max_images]
        self.height = min((h for h, _ in sizes), default=0)
        self.width = min((w for _, w in sizes), default=0)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, j):
        k, i = self.items[j]
        with open_shard(self.shards[k]) as f:
            img = f["sharp"][i]
        y = (img.shape[0] - self.height) // 2
        x = (img.shape[1] - self.width) // 2
        return img[y: y + self.height, x: x + self.width]

    def source(self, j: int) -> tuple[str, int]:
        k, i = self.items[j]
        with open_shard(self.shards[k]) as f:
            video = f["video"][i] if "video" in f else self.shards[k].stem
            center = int(f["center"][i]) if "center" in f else i
        return video.decode() if isinstance(video, bytes) else str(video), center


def write_si_test_shard(path: Path, sharp_images: Sequence[np.ndarray], bank: Path, seed: int,
                        kernel_indices: Sequence[int] | None = None,
                        noise_sigma: float = NOISE_SIGMA,
                        sources: Sequence[tuple[str, int]] | None = None,
                        settings_hash: str = "") -> Path:
    """A test shard of synthetic blur: image ``j`` blurred by a held-out kernel, plus noise.

    ``sharp_images``: (H, W, 3) uint8 images, all of one size (e.g. :class:`ShardSharpImages`
    of the WILD test shards). Each is blurred 'valid', so the shard holds (H-40, W-40) pairs:
    the blurry image rounded to 8 bits, and the sharp image's centre. Image ``j``'s kernel is
    drawn uniformly from ``kernel_indices`` (default: all the bank's held-out ones; a training
    index is refused) with ``default_rng([seed, j])``, as is its noise.

    Layout: that of :mod:`wilddeblur.dataset.shards` (``blurry``/``sharp`` (N, H, W, 3) uint8, one
    image per chunk, LZF; every metadata column of ``META_COLUMNS``, so ``manifest`` and
    ``evaluate`` work: ``video``/``center`` name the source image, ``ne`` is 0 (synthetic),
    flow columns are NaN, ``blur_size`` is the kernel's path length in pixels), plus
    ``kernel_index`` (N,) and attributes ``kind = "si"``, ``seed``, ``noise_sigma``,
    ``kernel_bank_seed``. Written atomically and deterministically.
    """
    path, bank = Path(path), Path(bank)
    train_range, test_range = bank_split(bank)
    if kernel_indices is None:
        kernel_indices = list(test_range)
    kernel_indices = [int(i) for i in kernel_indices]
    leaked = sorted(set(kernel_indices) & set(train_range))
    if leaked:
        raise ValueError(f"kernels {leaked[:5]} are training kernels of {bank}; a test set "
                         f"must use held-out ones ({test_range.start}..{test_range.stop - 1})")
    if not kernel_indices or min(kernel_indices) < 0 or max(kernel_indices) >= test_range.stop:
        raise ValueError(f"kernel indices must be among {bank}'s held-out ones")
    n = len(sharp_images)
    if n == 0:
        raise ValueError(f"{path}: no sharp image to blur")
    meta = {c: np.zeros(n, np.int64 if c in ("start", "ne", "center") else np.float64)
            for c in META_COLUMNS if c != "video"}
    videos, chosen = [], np.zeros(n, np.int64)
    with atomic_path(path) as tmp:
        with open_kernel_bank(bank) as kb, h5py.File(tmp, "w") as f:
            lengths = kb["path_length"][()]
            dsets: dict[str, h5py.Dataset] = {}
            shape = None
            for j in range(n):
                sharp = np.asarray(sharp_images[j])
                if shape is None:
                    shape = sharp.shape
                    if sharp.ndim != 3 or shape[2] != 3 or min(shape[:2]) <= MARGIN:
                        raise ConfigError(f"the SI test set needs (H, W, 3) images larger "
                                          f"than {MARGIN + 1} px, got {shape}")
                    out_shape = (n, shape[0] - MARGIN, shape[1] - MARGIN, 3)
                    for name in ("blurry", "sharp"):
                        dsets[name] = f.create_dataset(name, shape=out_shape, dtype=np.uint8,
                                                       chunks=(1, *out_shape[1:]),
                                                       compression="lzf")
                elif sharp.shape != shape:
                    raise ValueError(f"image {j} is {sharp.shape}, image 0 {shape}: a shard "
                                     "holds images of one size")
                rng = np.random.default_rng([seed, j])
                k = kernel_indices[int(rng.integers(0, len(kernel_indices)))]
                x = to_tensor(sharp[None]).double()
                blurred = blur_valid(x, torch.from_numpy(kb["kernels"][k][None]).double())
                blurred = blurred[0].permute(1, 2, 0).numpy()
                blurred = blurred + rng.standard_normal(blurred.shape) * noise_sigma
                half = MARGIN // 2
                dsets["blurry"][j] = to_uint8(blurred)
                dsets["sharp"][j] = sharp[half: shape[0] - half, half: shape[1] - half]
                video, center = sources[j] if sources is not None else ("image", j)
                videos.append(str(video))
                meta["start"][j] = meta["center"][j] = int(center)
                meta["blur_size"][j] = float(lengths[k])
                chosen[j] = k
            for c in ("flow_mean", "flow_p95", "flow_p99", "flow_region", "flow_max", "match_err",
                      "match_err_local"):
                meta[c][:] = np.nan
            f.create_dataset("video", data=np.array(videos, dtype=object),
                             dtype=h5py.string_dtype())
            for c, values in meta.items():
                f.create_dataset(c, data=values)
            f.create_dataset("kernel_index", data=chosen)
            f.attrs.update({"format_version": FORMAT_VERSION, "wilddeblur_version": __version__,
                            "settings_hash": settings_hash, "kind": "si", "seed": seed,
                            "noise_sigma": noise_sigma,
                            "kernel_bank_seed": int(kb.attrs["seed"]),
                            "kernel_bank_n": int(kb.attrs["n"])})
    return path
