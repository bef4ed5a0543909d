"""Offline training of Sun et al. 2015's patch CNN on synthetic linear motion blur.

Sharp images: the dataset's *train* sharp frames and the photos that scikit-image ships (the
"packaged photos"), in grey. Every step draws ``batch_size`` classes uniformly from
:func:`~wilddeblur.evaluation.baselines.sun_motion.motion_classes`, a random crop of side
30 + S − 1 of a random image (S the kernel grid), blurs it with that class's kernel ('valid', so
the 30×30 patch saw only real pixels), adds Gaussian noise of σ uniform in [0, ``noise_max``]
(Sun add noise too; the level is ours) and rounds to 8 bits. Cross-entropy, Adam, through the
engine's loop (resumable: a resumed run draws the patches of the steps done again, from one
stream of ``seed``, and repeats the uninterrupted run's steps). Sun trained on
1.4 M patches from 200 BSD images; the demo trains a narrow network for a minute (config
``baselines.sun2015_train``). The checkpoint is a plain dict: ``model``, ``classes``, ``width``,
``settings``, ``step``, and the accuracy on a held-out batch (``val_accuracy``, exact class;
``val_near``, within one length step and one angle step).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from wilddeblur.errors import ConfigError
from wilddeblur.evaluation.baselines.l0 import to_grey
from wilddeblur.evaluation.baselines.sun_motion import kernel_stack, motion_classes
from wilddeblur.models.sun2015_arch import PATCH, SunPatchNet

CHECKPOINT_EVERY = 1000  # steps between the resumable checkpoints (last.pt beside the model)
PHOTOS = ("astronaut", "camera", "coffee", "chelsea", "rocket", "brick", "grass", "gravel",
          "text", "page", "moon", "immunohistochemistry")


@dataclass(frozen=True)
class Sun2015TrainSettings:
    """Training of the patch CNN; the config section ``baselines.sun2015_train``."""

    steps: int = 20000
    batch_size: int = 128
    lr: float = 1e-3
    width: float = 1.0
    max_length: int = 25
    angles: int = 6
    noise_max: float = 0.02
    photos: bool = True
    val_patches: int = 2000


def sharp_images(shards: list[Path], photos: bool = True) -> list[np.ndarray]:
    """Grey float32 sharp images: every ``sharp`` image of ``shards``, plus scikit-image's."""
    from skimage import data as skdata

    from wilddeblur.dataset.shards import open_shard

    out = []
    for path in shards:
        with open_shard(Path(path)) as f:
            out += [to_grey(img / 255.0).astype(np.float32) for img in f["sharp"][()]]
    if photos:
        for name in PHOTOS:
            img = getattr(skdata, name)().astype(np.float32) / 255.0
            out.append(img if img.ndim == 2 else to_grey(img[..., :3]).astype(np.float32))
    if not out:
        raise ValueError("no sharp images: give train shards or photos=True")
    return out


def blurred_patches(images: list[np.ndarray], kernels: torch.Tensor, labels: torch.Tensor,
                    rng: np.random.Generator, noise_max: float) -> torch.Tensor:
    """(N, 1, 30, 30) patches of random crops blurred with ``kernels[labels]`` (see the doc)."""
    side = kernels.shape[-1]
    crop = PATCH + side - 1
    crops = []
    for _ in range(len(labels)):
        img = images[rng.integers(len(images))]
        y = rng.integers(img.shape[0] - crop + 1)
        x = rng.integers(img.shape[1] - crop + 1)
        crops.append(img[y: y + crop, x: x + crop])
    x = torch.from_numpy(np.stack(crops))[None]  # (1, N, crop, crop)
    weight = kernels[labels].flip(-1, -2)[:, None]  # conv2d correlates: flip for convolution
    out = F.conv2d(x, weight, groups=len(labels))[0, :, None]
    sigma = torch.from_numpy(rng.uniform(0, noise_max, len(labels)).astype(np.float32))
    noise = torch.from_numpy(rng.standard_normal(out.shape).astype(np.float32))
    return torch.round((out + sigma[:, None, None, None] * noise).clamp(0, 1) * 255) / 255


def near_miss(pred: torch.Tensor, truth: torch.Tensor, classes: list[tuple[int, float]],
              angles: int) -> torch.Tensor:
    """True where the predicted class is within one length step (2 px) and one angle step
    of the truth (any angle when either length is 1 or 3)."""
    length = torch.tensor([c[0] for c in classes], dtype=torch.float32)
    angle = torch.tensor([c[1] for c in classes], dtype=torch.float32)
    dl = (length[pred] - length[truth]).abs()
    da = (angle[pred] - angle[truth]).abs()
    da = torch.minimum(da, 180 - da)
    loose = (length[pred] <= 3) | (length[truth] <= 3)
    return (dl <= 2) & (loose | (da <= 180 / angles + 1e-6))


def train_sun2015(images: list[np.ndarray], out: Path, settings: Sun2015TrainSettings,
                  seed: int = 0, device: str = "cpu", log_every: int = 100) -> dict:
    """Train the patch CNN through the engine's loop (:func:`wilddeblur.engine.loop.fit`),
    resuming from ``last.pt`` beside ``out``; write the checkpoint to ``out`` atomically;
    return it."""
    from wilddeblur.engine.checkpoint import save_atomic
    from wilddeblur.engine.loop import Job, Recipe, fit
    from wilddeblur.engine.placement import Placement

    s = settings
    torch.manual_seed(seed)
    classes = motion_classes(s.max_length, s.angles)
    kernels = torch.from_numpy(kernel_stack(classes).astype(np.float32))
    side = kernels.shape[-1]
    images = [img for img in images if min(img.shape) >= PATCH + side - 1]
    if not images:
        raise ConfigError(f"baselines.sun2015_train.max_length: no sharp image is at least "
                          f"{PATCH + side - 1} px on each side")
    dev = torch.device(device)
    net = SunPatchNet(len(classes), s.width).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=s.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(s.steps, 1))
    val_rng = np.random.default_rng(seed + 1)
    val_y = torch.from_numpy(val_rng.integers(len(classes), size=s.val_patches))
    val_x = blurred_patches(images, kernels, val_y, val_rng, s.noise_max)

    def batches(start: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        rng = np.random.default_rng(seed)  # one stream: a resumed run draws again up to start
        for step in range(s.steps):
            y = torch.from_numpy(rng.integers(len(classes), size=s.batch_size))
            x = blurred_patches(images, kernels, y, rng, s.noise_max)
            if step >= start:
                yield x, y

    key = hashlib.sha256(json.dumps([asdict(s), seed]).encode())
    for img in images:  # a checkpoint resumes only on the same images
        key.update(np.ascontiguousarray(img).tobytes())
    job = Job("sun2015", net, opt, sched, F.cross_entropy, batches, Path(out).parent,
              key.hexdigest()[:16],
              extra={"settings": asdict(s)})
    result = fit(job, Recipe(s.steps, CHECKPOINT_EVERY, log_every), Placement(dev))
    net.eval()
    with torch.no_grad():
        pred = torch.cat([net(val_x[i: i + 1024].to(dev)).argmax(1).cpu()
                          for i in range(0, len(val_x), 1024)])
    accuracy = float((pred == val_y).float().mean())
    near = float(near_miss(pred, val_y, classes, s.angles).float().mean())
    print(f"held-out patches: exact class {accuracy:.3f}, within one step {near:.3f} "
          f"(chance {1 / len(classes):.3f}); {result.seconds:.0f} s")
    state = {"model": {k: v.cpu() for k, v in net.state_dict().items()},
             "classes": [[float(length), float(angle)] for length, angle in classes],
             "width": float(s.width), "settings": asdict(s), "step": result.step,
             "val_accuracy": accuracy, "val_near": near, "seconds": result.seconds}
    save_atomic(state, Path(out))
    return state


def run_train_sun2015(manifest: Path | None, out: Path, settings: dict | None = None,
                      seed: int = 0, device: str = "auto") -> dict:
    """The rule's entry point: the train split's shards of ``manifest`` (none when
    ``manifest`` is None), the config section ``settings``, the device by name."""
    from wilddeblur.dataset.shards import split_shards
    from wilddeblur.engine.device import pick_device

    s = Sun2015TrainSettings(**(settings or {}))
    if not (s.steps >= 1 and s.batch_size >= 1 and s.width > 0 and math.isfinite(s.lr)):
        raise ValueError(f"sun2015_train: steps, batch_size and width must be positive: {s}")
    shards = split_shards(Path(manifest), "train", required=True) if manifest else []
    return train_sun2015(sharp_images(shards, s.photos), Path(out), s, seed,
                         str(pick_device(device)))
