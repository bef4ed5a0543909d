"""§2 step 2: average Ne consecutive frames into a blurry image; the central frame is sharp.

The paper averages the 8-bit frames as they are ("plain", the default). Later datasets average
in linear light, which is closer to how a sensor integrates: GoPro (Nah et al. 2017) with a
gamma curve (``gamma``: x^2.2), REDS with a calibrated inverse camera response (``crf``: a file
of 256 values, the linear intensity of each 8-bit code). Clipped highlights: a pixel at 255 in
any frame of the window only bounds the true intensity from below; it is averaged as it is
(the result stays within [0, 255]) and the fraction of such pixels is recorded per sample
(``clipped_fraction``) so that users can filter. Optional Gaussian noise (off by default) is
added to the blurry image before the final rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wilddeblur.errors import ConfigError

MODES = ("plain", "gamma", "crf")


@dataclass(frozen=True)
class Averaging:
    """How windows become blurry images (config section ``average``)."""

    mode: str = "plain"
    gamma: float = 2.2
    crf_file: str | None = None
    noise_sigma: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"average.mode: {self.mode!r} is not one of {MODES}")
        if self.mode == "crf" and not self.crf_file:
            raise ConfigError("average.crf_file: the crf mode needs an inverse response file")
        if self.gamma <= 0 or self.noise_sigma < 0:
            raise ConfigError("average.gamma must be > 0 and average.noise_sigma >= 0")


PLAIN = Averaging()


def load_inverse_crf(path: Path) -> np.ndarray:
    """256 increasing values from a text file (one per line or whitespace/comma separated)."""
    values = np.loadtxt(path, delimiter=None if "," not in Path(path).read_text() else ",")
    values = np.asarray(values, np.float64).ravel()
    if values.size != 256 or np.any(np.diff(values) <= 0):
        raise ConfigError(f"{path}: an inverse response needs 256 strictly increasing values, "
                          f"got {values.size}")
    return (values - values[0]) / (values[-1] - values[0])


def average_frames(frames: np.ndarray) -> np.ndarray:
    """The plain mean of Ne uint8 frames (the paper's averaging), rounded half up, exactly.

    Integer arithmetic: (sum + Ne // 2) // Ne, so rebuilding a sample reproduces its bytes.
    """
    ne = frames.shape[0]
    total = frames.astype(np.uint32).sum(axis=0)
    return ((total + ne // 2) // ne).astype(np.uint8)


def average_linear(frames: np.ndarray, to_linear: np.ndarray, noise: np.ndarray | None = None
                   ) -> np.ndarray:
    """Mean in linear light through a 256-entry lookup table, mapped back to 8-bit codes.

    16-bit frames (10/12-bit sources) go through the table by interpolation, so their extra
    precision counts until the final rounding.
    """
    codes8 = np.arange(256.0)
    if frames.dtype == np.uint8:
        mean = to_linear[frames].mean(axis=0)
    else:
        mean = np.interp(frames.astype(np.float64) * (255 / 65535), codes8, to_linear).mean(0)
    codes = np.interp(mean, to_linear, codes8)
    if noise is not None:
        codes = codes + noise
    return np.clip(np.floor(codes + 0.5), 0, 255).astype(np.uint8)


def blurry_sharp_pair(frames: np.ndarray, averaging: Averaging = PLAIN,
                      rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(blurry, sharp) from an odd number of consecutive frames: mean and central frame.

    ``rng`` draws the optional noise (``averaging.noise_sigma`` in [0, 1] units).
    """
    if frames.shape[0] % 2 == 0:
        raise ValueError(f"Ne must be odd, got {frames.shape[0]}")
    noise = None
    if averaging.noise_sigma:
        rng = rng or np.random.default_rng(0)
        noise = rng.normal(0, 255 * averaging.noise_sigma, frames.shape[1:])
    if averaging.mode == "plain" and noise is None and frames.dtype == np.uint8:
        blurry = average_frames(frames)
    else:
        blurry = average_linear(frames, linear_table(averaging), noise)
    sharp = frames[frames.shape[0] // 2]
    if sharp.dtype == np.uint16:
        sharp = ((sharp.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return blurry, sharp.copy()


def linear_table(averaging: Averaging) -> np.ndarray:
    """8-bit code → linear intensity in [0, 1] for an averaging mode (identity for plain)."""
    codes = np.arange(256.0) / 255
    if averaging.mode == "gamma":
        return codes**averaging.gamma
    if averaging.mode == "crf":
        return load_inverse_crf(Path(averaging.crf_file))
    return codes


def clipped_fraction(frames: np.ndarray) -> float:
    """Fraction of pixels saturated (the top code in some channel) in at least one frame."""
    top = np.iinfo(frames.dtype).max
    return float((frames == top).any(axis=(0, 3)).mean())
