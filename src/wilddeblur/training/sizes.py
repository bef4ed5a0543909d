"""Frame sizes against the size-dependent settings: checked after ``probe``, before any decoding.

Every setting that needs images of some size is met with the smallest downsampled frames of
the split it works on. Where a smaller value still works it adapts, with one line saying what
it chose; where nothing can work the run stops in one line naming the key and the video.

* ``train.crop`` (each network on WILD pairs): at most the train split's smallest side, rounded
  down to a multiple of 4 (DeblurNet's 1/4 scale).
* The SI training crop (§4; ``train.crop`` for the ``{net}SI`` networks when ``si.wild_sharp``):
  a crop of ``crop + 40`` is blurred 'valid' by the bank's 41×41 kernels, so at most the
  smallest side less 40.
* A crop under :data:`MIN_CROP` is refused.
* The SI test set: the test split's frames blurred 'valid', 40 px smaller; they must hold Sun et
  al. 2015's 30×30 patches (its CNN has no other size), else refused.
* ``baselines.l0.kernel_size`` and ``baselines.xu_jia.kernel_size`` on the WILD test split and
  on the SI test set: blind deblurring needs an image of at least twice the kernel side; the
  kernel is capped to the largest odd side that fits.
* ``baselines.sun2015_train``: its sharp patches are ``30 + max_length - 1`` px; without
  scikit-image's photos (``photos: false``) some train frame must hold one.

Tiled evaluation and NAFNet's padding take any size (an image smaller than a tile is run whole;
NAFNet pads to its multiple), and so does the flow (a border wider than the frame leaves the
whole frame): nothing to check there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from wilddeblur.dataset.kernels import KERNEL_SIZE
from wilddeblur.dataset.select import TIME
from wilddeblur.errors import ConfigError
from wilddeblur.evaluation.baselines.l0 import L0Params
from wilddeblur.evaluation.baselines.xu_jia import XuJiaParams
from wilddeblur.fileio import write_text_atomic
from wilddeblur.models.registry import get, labels
from wilddeblur.training.settings import settings_for_arch
from wilddeblur.video.downsample import downsampled_size
from wilddeblur.video.probe import VideoInfo

SI_MARGIN = KERNEL_SIZE - 1  # px lost by a 'valid' blur with the bank's kernels
SUN_PATCH = 30  # Sun et al. 2015's patch side (wilddeblur.models.sun2015_arch.PATCH)
MIN_CROP = 16  # a 4×4 grid at DeblurNet's 1/4 scale
BLIND = {"l0": L0Params().kernel_size, "xu_jia": XuJiaParams().kernel_size}


@dataclass(frozen=True)
class Frame:
    """A video's frames: ``width`` × ``height`` after the ×``factor`` downsampling."""

    video: str
    width: int
    height: int
    factor: int
    split: str  # train, test, or both (a video split in time)

    @property
    def side(self) -> int:
        return min(self.width, self.height)

    def __str__(self) -> str:
        return (f"{self.video}'s frames are {self.width}x{self.height} after the "
                f"x{self.factor} downsampling (downsample.factor)")


def smallest(frames: list[Frame], split: str) -> Frame | None:
    """The frame of ``split`` (videos split in time count in both) with the smallest side."""
    of_split = [f for f in frames if f.split in (split, "both")]
    return min(of_split, key=lambda f: (f.side, f.video)) if of_split else None


def fit_crop(crop: int, room: int, key: str, net: str, why: str, frame: Frame) -> int:
    """``crop`` if ``room`` px hold it, else the largest multiple of 4 that fits (at least
    MIN_CROP, else ConfigError naming ``key`` and the video)."""
    if crop <= room:
        return crop
    fitted = max(room, 0) // 4 * 4
    if fitted < MIN_CROP:
        raise ConfigError(f"{key}: {frame}; {net} needs {why}: no crop of at least {MIN_CROP} "
                          "px fits (footage with larger frames, or a smaller downsample.factor)")
    return fitted


def largest_odd(limit: int) -> int:
    return limit if limit % 2 else limit - 1


def fit_sizes(frames: list[Frame], config: Mapping) -> tuple[dict, list[str]]:
    """Check the size-dependent settings of ``config`` (validated, defaults filled in) against
    ``frames``; return ``(adapted, notes)``: ``adapted["train"][net]`` the crop of each network
    that must change (e.g. ``{"DeblurNetSI": 40}``), ``adapted["baselines"][where][method]``
    the kernel side of the L0 / Xu & Jia baselines on ``wild`` or ``si`` that must change, and
    one note per change. Raises ConfigError (the key, the video) where nothing works."""
    adapted: dict = {"train": {}, "baselines": {"wild": {}, "si": {}}}
    notes: list[str] = []
    train, test = smallest(frames, "train"), smallest(frames, "test")
    for arch in config["model"]["arch"] if train is not None else []:
        key = f"train.{get(arch).train_section}.crop" if get(arch).train_section else "train.crop"
        crop = settings_for_arch(config["train"], arch).crop
        rooms = [("WILD", train.side, "its crops inside the frames")]
        if config["si"]["wild_sharp"]:
            rooms.append(("SI", train.side - SI_MARGIN,
                          f"{SI_MARGIN} px more than its crops for the synthetic blur"))
        for data, room, why in rooms:
            net = f"{labels()[arch]}{data}"
            fitted = fit_crop(crop, room, key, net, why, train)
            if fitted != crop:
                adapted["train"][net] = fitted
                notes.append(f"{key} {crop} -> {fitted} for {net}, which needs {why}: {train}")
    if test is not None:
        si_side = test.side - SI_MARGIN
        if si_side < SUN_PATCH:
            raise ConfigError(
                f"si: {test}; the SI test set blurs them 'valid' with {KERNEL_SIZE}x"
                f"{KERNEL_SIZE} kernels, {SI_MARGIN} px smaller, under the {SUN_PATCH}x"
                f"{SUN_PATCH} patches of Sun et al. 2015 (baselines.sun2015): test frames of at "
                f"least {SUN_PATCH + SI_MARGIN} px after downsampling are needed (footage with "
                "larger frames, or a smaller downsample.factor)")
        for method, default in BLIND.items():
            size = config["baselines"][method].get("kernel_size", default)
            for where, side, images in (("wild", test.side, "the WILD test split"),
                                        ("si", si_side, "the SI test set")):
                cap = largest_odd(side // 2)
                if size > cap:
                    adapted["baselines"][where][method] = cap
                    notes.append(f"baselines.{method}.kernel_size {size} -> {cap} on {images}, "
                                 f"whose images have {side} px (blind deblurring needs twice "
                                 f"the kernel side): {test}")
    sun = config["baselines"]["sun2015_train"]
    need = SUN_PATCH + sun["max_length"] - 1
    if train is not None and not sun["photos"]:
        largest = max((f for f in frames if f.split in ("train", "both")), key=lambda f: f.side)
        if largest.side < need:
            raise ConfigError(
                f"baselines.sun2015_train.max_length: {largest} (the largest of the train "
                f"split); Sun's patches of {SUN_PATCH} px blurred by {sun['max_length']} px "
                f"need {need} px, and photos is false (set photos: true, or a smaller "
                "max_length)")
    return adapted, notes


def video_frames(probes: Sequence[Path], splits: Mapping[str, str], factor: int) -> list[Frame]:
    """The downsampled frame of each probed video (``results/probe/{video}.json``), with its
    split (:func:`wilddeblur.dataset.select.assign_splits`; a video split in time is in both)."""
    frames = []
    for path in probes:
        video, info = Path(path).stem, VideoInfo.from_json(Path(path))
        w, h = downsampled_size(info.width, info.height, factor)
        frames.append(Frame(video, w, h, factor, "both" if splits[video] == TIME
                            else splits[video]))
    return frames


def check_sizes(probes: Sequence[Path], splits: Mapping[str, str], factor: int,
                config: Mapping, output: Path) -> list[str]:
    """:func:`fit_sizes` on the probed videos; write the frames it checked and its notes to
    ``output`` (JSON: ``{"frames": [...], "notes": [...]}``) and return the notes."""
    frames = video_frames(probes, splits, factor)
    notes = fit_sizes(frames, config)[1]
    write_text_atomic(Path(output), json.dumps(
        {"frames": [asdict(f) for f in frames], "notes": notes}, indent=1))
    return notes
