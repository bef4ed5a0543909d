"""§2 step 2: average Ne consecutive frames into a blurry image; the central frame is sharp.

The paper averages the 8-bit frames as they are ("plain", the default). Later datasets average
in linear light, which is closer to how a sensor integrates: GoPro (Nah et al. 2017) with a
gamma curve (``gamma``: x^2.2), REDS with a calibrated inverse camera response (``crf``: a file
of 256 values, the linear intensity of each 8-bit code). Clipped highlights: a pixel at 255 in
any frame of the window only bounds the true intensity from below; it is averaged as it is
(the result stays within [0, 255]) and the fraction of such pixels is recorded per sample
(``clipped_fraction``) so that users can filter. Optional Gaussian noise (off by default) is
added to the blurry image before the final rounding.

Beyond the paper, off by default, two degradations of RSBlur (Rim et al., "Realistic Blur
Synthesis for Learning Image Deblurring", ECCV 2022; code github.com/rimchang/RSBlur), applied
in linear light (through the mode's table; plain: identity):

- ``saturation: rsblur``: every channel at the top code in a frame (clipped; 255 for uint8,
  65535 for uint16, >= 254.5 for float codes) stands for a brighter true value, 1 + alpha, with
  alpha drawn per sample uniformly in ``saturation_range``: the blurry image is
  clip(mean + alpha * M, 0, 1), M the per-channel share of the frames clipped there (RSBlur
  issue #6; Uformer-RSBlur/dataset/dataset_RealisticDeblur.py:159-162).
- ``noise: poisson_gaussian``: y = shot * Poisson(x / shot) + N(0, read^2) on the linear mean x,
  so Var(y - x) = shot * x + read^2 (Uformer-RSBlur/ISP/utils.py:234-252); shot and read drawn
  per sample uniformly in [0.5, 1.5] times RSBlur's values for its camera (beta1 = 1e-4,
  beta2 = 9.1504e-4, SRN-Deblur-RSBlur/models/model.py:65-66). RSBlur adds it to the raw mosaic
  after an inverse ISP; here it goes on the linear RGB mean. Channels at 1 after saturation get
  no noise (dataset_RealisticDeblur.py:210-213); y is clipped to [0, 1].

Frames are uint8, uint16 (10/12-bit sources) or float holding 8-bit codes (0..255, not rounded:
synthesised frames).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wilddeblur.errors import ConfigError
from wilddeblur.video.eightbit import round_codes

MODES = ("plain", "gamma", "crf")
NOISES = ("gaussian", "poisson_gaussian")
SATURATIONS = ("none", "rsblur")
# RSBlur's noise for its camera (SRN-Deblur-RSBlur/models/model.py:65-66), each drawn uniformly
# in [0.5, 1.5] times it (Uformer-RSBlur/ISP/utils.py:239-248)
SHOT_RANGE = (0.5e-4, 1.5e-4)
READ_RANGE = (0.5 * 9.1504e-4, 1.5 * 9.1504e-4)
FLOAT_CLIPPED = 254.5  # a float code at or above it counts as clipped (the top code, rounded)


@dataclass(frozen=True)
class Averaging:
    """How windows become blurry images (config section ``average``)."""

    mode: str = "plain"
    gamma: float = 2.2
    crf_file: str | None = None
    noise: str = "gaussian"
    noise_sigma: float = 0.0
    saturation: str = "none"
    saturation_range: tuple[float, float] = (0.25, 1.75)

    def __post_init__(self) -> None:
        for key, value, choices in (("mode", self.mode, MODES), ("noise", self.noise, NOISES),
                                    ("saturation", self.saturation, SATURATIONS)):
            if value not in choices:
                raise ConfigError(f"average.{key}: {value!r} is not one of {choices}")
        if self.mode == "crf" and not self.crf_file:
            raise ConfigError("average.crf_file: the crf mode needs an inverse response file")
        if self.gamma <= 0 or self.noise_sigma < 0:
            raise ConfigError("average.gamma must be > 0 and average.noise_sigma >= 0")
        if self.noise_sigma and self.noise != "gaussian":
            raise ConfigError(f"average.noise_sigma: only for noise gaussian, not {self.noise}")
        object.__setattr__(self, "saturation_range", increasing_pair(
            self.saturation_range, "average.saturation_range"))

    @property
    def degraded(self) -> bool:
        """Whether noise or saturation is on (else: the plain mean through the mode's table)."""
        return bool(self.noise_sigma) or self.noise != "gaussian" or self.saturation != "none"

    def attrs(self) -> dict[str, object]:
        """Shard attributes: the mode, and the noise and saturation settings when on."""
        attrs: dict[str, object] = {"averaging": self.mode}
        if self.noise_sigma:
            attrs |= {"noise": self.noise, "noise_sigma": self.noise_sigma}
        if self.noise == "poisson_gaussian":
            attrs |= {"noise": self.noise, "noise_shot_range": SHOT_RANGE,
                      "noise_read_range": READ_RANGE}
        if self.saturation != "none":
            attrs |= {"saturation": self.saturation, "saturation_range": self.saturation_range}
        return attrs


def increasing_pair(value: Sequence[float], key: str) -> tuple[float, float]:
    """Two increasing positive numbers, or a :class:`ConfigError` naming ``key``."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        low = high = 0.0
    if not 0 < low < high:
        raise ConfigError(f"{key}: {value!r} is not two increasing positive numbers")
    return low, high


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
    """The plain mean of Ne frames (the paper's averaging), rounded half up, clipped to [0, 255].

    uint8 frames in integer arithmetic, (sum + Ne // 2) // Ne, so rebuilding a sample reproduces
    its bytes; float codes as floor(mean + 0.5).
    """
    ne = frames.shape[0]
    if frames.dtype == np.uint8:
        total = frames.astype(np.uint32).sum(axis=0)
        return ((total + ne // 2) // ne).astype(np.uint8)
    return round_codes(frames.mean(axis=0, dtype=np.float64))


def codes_of(frames: np.ndarray) -> np.ndarray:
    """Frames as float 8-bit codes in [0, 255] (16-bit ones scaled)."""
    scale = 255 / 65535 if frames.dtype == np.uint16 else 1.0
    return frames.astype(np.float64) * scale


def clipped(frames: np.ndarray) -> np.ndarray:
    """Per frame and channel: at the top code (255, 65535; float codes >= 254.5)."""
    if frames.dtype.kind == "f":
        return frames >= FLOAT_CLIPPED
    return frames == np.iinfo(frames.dtype).max


def linear_mean(frames: np.ndarray, to_linear: np.ndarray, alpha: float | None = None
                ) -> np.ndarray:
    """Mean in linear light [0, 1] through a 256-entry lookup table; 16-bit and float frames
    go through it by interpolation, so their extra precision counts until the final rounding.

    With ``alpha`` (RSBlur's saturation), clipped channels count as 1 + alpha: the mean plus
    alpha times the share of frames clipped, clipped to [0, 1].
    """
    if frames.dtype == np.uint8:
        mean = to_linear[frames].mean(axis=0)
    else:
        mean = np.interp(codes_of(frames), np.arange(256.0), to_linear).mean(axis=0)
    if alpha is None:
        return mean
    return np.clip(mean + alpha * clipped(frames).mean(axis=0), 0, 1)


def sensor_noise(x: np.ndarray, shot: float, read: float, rng: np.random.Generator
                 ) -> np.ndarray:
    """RSBlur's Poisson-Gaussian noise on a linear signal x in [0, 1]:
    shot * Poisson(x / shot) + N(0, read^2), variance shot * x + read^2; clipped to [0, 1]."""
    y = rng.poisson(x / shot) * shot + rng.normal(0.0, read, x.shape)
    return np.clip(y, 0, 1)


def draw_parameters(averaging: Averaging, rng: np.random.Generator) -> dict[str, float]:
    """The per-sample draws of the degradations that are on: ``noise_shot``, ``noise_read``
    (poisson_gaussian), ``saturation_alpha`` (rsblur); empty when both are off."""
    drawn = {}
    if averaging.noise == "poisson_gaussian":
        drawn["noise_shot"] = float(rng.uniform(*SHOT_RANGE))
        drawn["noise_read"] = float(rng.uniform(*READ_RANGE))
    if averaging.saturation == "rsblur":
        drawn["saturation_alpha"] = float(rng.uniform(*averaging.saturation_range))
    return drawn


def degraded_blurry(frames: np.ndarray, averaging: Averaging, rng: np.random.Generator,
                    drawn: dict[str, float]) -> np.ndarray:
    """The blurry image through the mode's table, with the noise and saturation that are on."""
    to_linear = linear_table(averaging)
    mean = linear_mean(frames, to_linear, drawn.get("saturation_alpha"))
    if averaging.noise == "poisson_gaussian":
        noisy = sensor_noise(mean, drawn["noise_shot"], drawn["noise_read"], rng)
        mean = np.where(mean >= 1, mean, noisy)
    codes = np.interp(mean, to_linear, np.arange(256.0))
    if averaging.noise_sigma:
        codes = codes + rng.normal(0, 255 * averaging.noise_sigma, codes.shape)
    return round_codes(codes)


def blurry_sharp_pair(frames: np.ndarray, averaging: Averaging = PLAIN,
                      rng: np.random.Generator | None = None,
                      drawn: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(blurry, sharp) from an odd number of consecutive frames: mean and central frame.

    Frames: uint8, uint16, or float 8-bit codes. ``rng`` draws the optional degradations
    (``averaging.noise_sigma`` in [0, 1] units); ``drawn`` fixes the per-sample parameters
    (:func:`draw_parameters`, which draws them from ``rng`` when not given).
    """
    if frames.shape[0] % 2 == 0:
        raise ValueError(f"Ne must be odd, got {frames.shape[0]}")
    if averaging.mode == "plain" and not averaging.degraded and frames.dtype != np.uint16:
        blurry = average_frames(frames)
    else:
        rng = rng or np.random.default_rng(0)
        drawn = draw_parameters(averaging, rng) if drawn is None else drawn
        blurry = degraded_blurry(frames, averaging, rng, drawn)
    sharp = frames[frames.shape[0] // 2]
    return blurry, sharp.copy() if sharp.dtype == np.uint8 else round_codes(codes_of(sharp))


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
    return float(clipped(frames).any(axis=(0, 3)).mean())
