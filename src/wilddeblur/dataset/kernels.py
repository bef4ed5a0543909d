"""The motion-blur kernel bank of DeblurNetSI (paper §4), built as in Chakrabarti (ECCV 2016).

DeblurNetSI is DeblurNet trained on *shift-invariant* synthetic blur: sharp crops convolved with
kernels from a bank of 10⁵ random camera-shake kernels made "as in Chakrabarti" (A. Chakrabarti,
"A Neural Approach to Blind Motion Deblurring", ECCV 2016, §4 and its released training code,
``training/make_kernels.m``). Kernel ``i`` of a bank is made like this, from its own random
stream ``numpy.random.default_rng([STREAM, seed, i])`` (so it depends only on ``(seed, i)``,
never on ``n`` or on the other kernels):

1. **Nested grids.** The control points live on a ``g × g`` pixel grid, ``g = GRIDS[i % 3]``
   = 24, 16 or 8: the three sets Chakrabarti trained on (one third of the bank each: small,
   medium and large motions). Taking ``i % 3`` rather than a random draw keeps every
   contiguous range of indices (the training part, the held-out part) balanced across sizes.
2. **Trajectory.** ``N_CONTROL`` = 6 control points, each coordinate an integer drawn
   uniformly from ``0 … g-1``, placed at parameters ``t = linspace(0, 1, 6)``; x(t) and y(t)
   are interpolated by a cubic spline with not-a-knot ends (``scipy CubicSpline``'s default,
   the same as MATLAB's ``spline`` used by Chakrabarti), sampled at ``6 × 5000`` equally
   spaced ``t`` and clipped to the grid.
3. **Rasterisation.** Each sample is rounded to the nearest pixel (halves up, like MATLAB's
   ``round`` on positive numbers); the set of distinct pixels visited is the kernel's support.
   The samples are so dense (a few hundredths of a pixel apart) that consecutive samples round
   to the same or 8-neighbouring pixels: the support is one 8-connected path. (Nearest-pixel
   rasterisation as in Chakrabarti, not bilinear splatting: the kernels are his.)
4. **Weights.** Every pixel of the support gets a weight ``max(w_min, N(1, 0.5²))`` (one draw
   per pixel, "random per-point weights"), then the kernel is normalised to sum 1.
   *Choice:* Chakrabarti clips at ``w_min = 0``; about 2.3 % of the pixels then get weight 0,
   which can cut the path in two (a camera that moves through a pixel spends time there). The
   default floor ``WEIGHT_FLOOR = 0.05`` keeps every visited pixel, so the kernel is one
   connected path; ``weight_floor=0`` reproduces Chakrabarti's rule exactly.
5. **Centring.** The weighted centroid, rounded, is moved to the centre pixel (20, 20) of the
   41×41 support (so a blurred image stays aligned with its sharp target). As in Chakrabarti,
   a trajectory is redrawn (steps 2-5, same stream) when the grid, so shifted, would not fit
   in 41×41, i.e. when ``2·max(c, g-1-c) + 1 > 41`` for either centroid coordinate ``c``
   (this happens only on the 24-grid, for centroids within 3 px of its border).

The bank stores, besides the kernels, each kernel's grid size and the arc length in pixels of
its (clipped) spline, a measure of blur size. The bank's last ``test_fraction`` (default 10 %)
of indices is held out: :func:`split_indices` gives the training and test ranges, and training
(:class:`wilddeblur.training.synthetic_blur.SIBatches`) draws only from the first.

File format (``format = "wilddeblur-kernel-bank"``, ``version`` = :data:`BANK_VERSION`):
dataset ``kernels`` (n, 41, 41) float32, one kernel per chunk, compressed; ``grid`` (n,) uint8;
``path_length`` (n,) float32; attributes ``seed``, ``n``, ``size``, ``test_fraction``, the
construction constants, ``wilddeblur_version``. Written atomically (temp file, then rename).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
from scipy.interpolate import CubicSpline
from tqdm import tqdm

from wilddeblur import __version__
from wilddeblur.errors import WilddeblurError
from wilddeblur.fileio import atomic_path

BANK_FORMAT = "wilddeblur-kernel-bank"
BANK_VERSION = 1
KERNEL_SIZE = 41
GRIDS = (24, 16, 8)
N_CONTROL = 6
SAMPLES_PER_CONTROL = 5000
WEIGHT_MEAN, WEIGHT_STD = 1.0, 0.5
WEIGHT_FLOOR = 0.05
TEST_FRACTION = 0.1
STREAM = 0x6B65726E  # "kern": keeps kernel streams apart from other uses of the same seed

_T = np.linspace(0.0, 1.0, N_CONTROL)
_TT = np.linspace(0.0, 1.0, N_CONTROL * SAMPLES_PER_CONTROL)


class KernelBankError(WilddeblurError, RuntimeError):
    """A kernel bank is missing, truncated or not a bank; the message names the file."""


def make_kernel(seed: int, i: int,
                weight_floor: float = WEIGHT_FLOOR) -> tuple[np.ndarray, int, float]:
    """Kernel ``i`` of the bank with ``seed``: ``(kernel (41, 41) float32, grid, path length)``."""
    if seed < 0 or i < 0:
        raise ValueError(f"seed and kernel index must be non-negative, got {seed}, {i}")
    size = KERNEL_SIZE
    rng = np.random.default_rng([STREAM, seed, i])
    g = GRIDS[i % len(GRIDS)]
    half = size // 2
    while True:
        ctrl = rng.integers(0, g, (2, N_CONTROL))  # rows (y) and columns (x)
        path = np.clip(CubicSpline(_T, ctrl, axis=1)(_TT), 0, g - 1)
        pix = np.floor(path + 0.5).astype(np.int64)
        lin = pix[0] * g + pix[1]
        lin = np.unique(np.concatenate([lin[:1], lin[1:][np.diff(lin) != 0]]))
        w = np.maximum(weight_floor, rng.normal(WEIGHT_MEAN, WEIGHT_STD, lin.size))
        if w.sum() <= 0:
            continue
        w /= w.sum()
        rows, cols = lin // g, lin % g
        cy = int(np.floor(np.dot(w, rows) + 0.5))
        cx = int(np.floor(np.dot(w, cols) + 0.5))
        if 2 * max(cy, g - 1 - cy) + 1 > size or 2 * max(cx, g - 1 - cx) + 1 > size:
            continue
        kernel = np.zeros((size, size), np.float64)
        kernel[rows - cy + half, cols - cx + half] = w
        length = float(np.hypot(*np.diff(path, axis=1)).sum())
        return (kernel / kernel.sum()).astype(np.float32), g, length


def make_kernels(n: int, seed: int, start: int = 0, weight_floor: float = WEIGHT_FLOOR,
                 progress: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kernels ``start … start+n-1``: ``(kernels (n, 41, 41), grid (n,), path_length (n,))``."""
    kernels = np.zeros((n, KERNEL_SIZE, KERNEL_SIZE), np.float32)
    grid = np.zeros(n, np.uint8)
    length = np.zeros(n, np.float32)
    for j in tqdm(range(n), desc="kernels", unit="kernel", mininterval=2, disable=not progress):
        kernels[j], grid[j], length[j] = make_kernel(seed, start + j, weight_floor)
    return kernels, grid, length


def split_indices(n: int, test_fraction: float = TEST_FRACTION) -> tuple[range, range]:
    """``(train, test)`` index ranges of a bank of ``n``; the last ``test_fraction`` is held out."""
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    n_test = round(n * test_fraction)
    if test_fraction > 0:
        n_test = max(1, n_test)
    if n - n_test < 1:
        raise ValueError(f"a bank of {n} kernels leaves none for training")
    return range(0, n - n_test), range(n - n_test, n)


def write_kernel_bank(path: Path, n: int, seed: int, test_fraction: float = TEST_FRACTION,
                      weight_floor: float = WEIGHT_FLOOR, progress: bool = True) -> Path:
    """Make ``n`` kernels from ``seed`` and write them to ``path`` (HDF5), atomically."""
    if n < 1:
        raise ValueError(f"a kernel bank needs at least one kernel, got n={n}")
    split_indices(n, test_fraction)  # validates
    path = Path(path)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            dset = f.create_dataset("kernels", (n, KERNEL_SIZE, KERNEL_SIZE), np.float32,
                                    chunks=(1, KERNEL_SIZE, KERNEL_SIZE), compression="gzip",
                                    compression_opts=4, shuffle=True)
            grid = np.zeros(n, np.uint8)
            length = np.zeros(n, np.float32)
            block = 4096
            bar = tqdm(total=n, desc=f"kernel bank {path.name}", unit="kernel", mininterval=2,
                       disable=not progress)
            for start in range(0, n, block):
                m = min(block, n - start)
                k, grid[start:start + m], length[start:start + m] = make_kernels(
                    m, seed, start, weight_floor)
                dset[start:start + m] = k
                bar.update(m)
            bar.close()
            f.create_dataset("grid", data=grid)
            f.create_dataset("path_length", data=length)
            f.attrs.update({
                "format": BANK_FORMAT, "version": BANK_VERSION, "seed": seed, "n": n,
                "size": KERNEL_SIZE, "test_fraction": test_fraction, "grids": list(GRIDS),
                "n_control": N_CONTROL, "samples_per_control": SAMPLES_PER_CONTROL,
                "weight_mean": WEIGHT_MEAN, "weight_std": WEIGHT_STD,
                "weight_floor": weight_floor, "wilddeblur_version": __version__,
                "reference": "Chakrabarti, ECCV 2016 (make_kernels.m); Noroozi et al. 2017 §4",
            })
    return path


def open_kernel_bank(path: Path) -> h5py.File:
    """Open a bank for reading; a missing, truncated or foreign file raises KernelBankError."""
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise KernelBankError(f"{path}: cannot be read as a kernel bank ({err})") from err
    if (f.attrs.get("format") != BANK_FORMAT or f.attrs.get("version") != BANK_VERSION
            or "kernels" not in f):
        f.close()
        raise KernelBankError(f"{path}: not a wilddeblur kernel bank of version {BANK_VERSION}")
    return f


def bank_split(path: Path) -> tuple[range, range]:
    """The ``(train, test)`` index ranges recorded in a bank file."""
    with open_kernel_bank(path) as f:
        return split_indices(int(f.attrs["n"]), float(f.attrs["test_fraction"]))


def kernel_figure(kernels: np.ndarray, out: Path, titles: list[str] | None = None,
                  ncols: int = 8, suptitle: str | None = None) -> Path:
    """A PNG grid of kernels (each shown scaled to its own maximum), written atomically."""
    from matplotlib.figure import Figure  # no pyplot: no global state, Agg canvas for PNG

    kernels = np.asarray(kernels)
    n = len(kernels)
    nrows = max(1, -(-n // ncols))
    fig = Figure(figsize=(1.5 * ncols, 1.6 * nrows + (0.4 if suptitle else 0)), dpi=100)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for j, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if j < n:
            k = kernels[j]
            ax.imshow(k / max(float(k.max()), 1e-12), cmap="gray", vmin=0, vmax=1,
                      interpolation="nearest")
            if titles:
                ax.set_title(titles[j], fontsize=7)
    if suptitle:
        fig.suptitle(suptitle, fontsize=9)
    fig.tight_layout()
    out = Path(out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png")
    return out


def bank_figure(bank: Path, out: Path, n: int = 32, ncols: int = 8) -> Path:
    """Figure of a bank's first ``n`` training and last held-out kernels (half each)."""
    train, test = bank_split(bank)
    n_test = min(len(test), n // 2)
    picks = list(train[: n - n_test]) + list(test[len(test) - n_test:])
    with open_kernel_bank(bank) as f:
        kernels = np.stack([f["kernels"][i] for i in picks])
        grid, length = f["grid"][()], f["path_length"][()]
        seed = int(f.attrs["seed"])
    titles = [f"{'test ' if i in test else ''}#{i} g{grid[i]} L{length[i]:.0f}" for i in picks]
    return kernel_figure(kernels, out, titles, ncols,
                         f"{Path(bank).name}: seed {seed}, {len(train)} train + {len(test)} "
                         "held-out kernels (g = control grid, L = path length in px)")
