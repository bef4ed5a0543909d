"""Training a network of the registry: DeblurNet as the paper does (§3: Eq. (1), Adam (β 0.9,
0.999), lr 1e-3 × 0.75 every 10⁴ iterations, batch 10), NAFNet with its own loss and settings.

What is the networks' own lives here (the optimizer and schedule, the batches of the WILD
shards or of synthetic blur, the validation PSNR, the ``model.pt`` that records the
architecture); the loop itself is the engine's (:mod:`wilddeblur.engine.loop`): exact resume
from ``last.pt`` when the settings hash matches (a checkpoint made with other settings is moved
aside, never overwritten), gradient accumulation, clipping, the moving average of the weights,
AMP, the NaN guard.

Data-parallel training: started by ``torchrun`` (``WORLD_SIZE`` > 1), each process takes its
share of every batch (``batch_size`` is the global batch), gradients are averaged by DDP, and
rank 0 alone writes logs and checkpoints. The same code runs on one GPU and on the CPU. Batch
normalisation statistics stay per process (the paper's 2 GPUs give no detail), and per
micro-batch with ``train.accumulate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from wilddeblur.dataset.shards import open_shard
from wilddeblur.engine.checkpoint import save_atomic
from wilddeblur.engine.device import autocast_bf16
from wilddeblur.engine.loop import Job, Recipe, fit
from wilddeblur.engine.placement import place, release
from wilddeblur.errors import ConfigError
from wilddeblur.evaluation.inference import deblur_array
from wilddeblur.evaluation.metrics import psnr, to_uint8
from wilddeblur.models.registry import ModelSpec, init_weights
from wilddeblur.training.data import ShardBatches, batch_loader
from wilddeblur.training.losses import loss_function
from wilddeblur.training.settings import TrainSettings

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


def build(s: TrainSettings, spec: ModelSpec, device: torch.device):
    """Model, optimizer and learning-rate schedule (stepped once per iteration)."""
    torch.manual_seed(s.seed)
    # channels-last: faster on CUDA, and on the CPU too (benchmarks/memory_format.py)
    model = spec.build().to(device, memory_format=torch.channels_last)
    if s.optimizer not in OPTIMIZERS:
        raise ConfigError(f"train.optimizer: {s.optimizer!r} is not one of {list(OPTIMIZERS)}")
    opt = OPTIMIZERS[s.optimizer](model.parameters(), lr=s.lr, betas=(s.beta1, s.beta2),
                                  weight_decay=s.weight_decay)
    if s.schedule == "step":  # the paper: × lr_decay every lr_step iterations
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=s.lr_step, gamma=s.lr_decay)
    elif s.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s.steps)
    elif s.schedule == "constant":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    else:
        raise ConfigError(f"train.schedule: {s.schedule!r} is not step, cosine or constant")
    return model, opt, sched


@torch.no_grad()
def validation_psnr(model: torch.nn.Module, images: list[tuple[np.ndarray, np.ndarray]],
                    device: torch.device, callback=None, step: int = 0) -> float:
    """Mean PSNR of the model's 8-bit outputs on held-out (blurry, sharp) pairs (and
    ``callback(model, step)``, when given, while the model is in eval mode)."""
    model.eval()
    value = float(np.mean([psnr(to_uint8(deblur_array(model, b, device)), s) for b, s in images]))
    if callback is not None:
        callback(model, step)
    model.train()
    return value


def held_out_images(shards: list[Path], n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The first ``n`` (blurry, sharp) pairs of some shards."""
    out = []
    for path in shards:
        with open_shard(path) as f:
            for i in range(min(n - len(out), f["blurry"].shape[0])):
                out.append((f["blurry"][i], f["sharp"][i]))
        if len(out) >= n:
            break
    return out


def train(shards: list[Path], out_dir: Path, s: TrainSettings, settings_hash: str,
          name: str = "DeblurNetWILD", dataset: Dataset | None = None,
          val_shards: list[Path] = (), model_spec: ModelSpec | None = None,
          on_validation: Callable[[torch.nn.Module, int], None] | None = None) -> Path:
    """Train ``model_spec``'s network (default: DeblurNet) on ``shards`` until ``s.steps``
    through the engine's loop (:func:`wilddeblur.engine.loop.fit`); write
    ``out_dir/model.pt`` (recording the architecture; the moving average of the weights when
    ``s.ema`` is on) and return its path.

    ``dataset`` replaces the WILD pairs of ``shards`` (e.g. :class:`SIBatches` for
    DeblurNetSI): item ``step`` must be a batch, a pure function of (seed, step), and its
    length ``s.steps``. ``out_dir/last.pt`` is the resumable checkpoint, ``out_dir/log.csv``
    the loss log (and ``out_dir/tensorboard`` with ``s.tensorboard``). Every ``s.val_every``
    steps the PSNR on the first ``s.val_images`` images of ``val_shards`` is logged: for
    monitoring only, no model is chosen by it. ``on_validation(model, step)`` is called then
    too, in eval mode (a benchmark's own measurements).
    """
    where = place(s.device)
    rank, world, device = where.rank, where.world, where.device
    if s.batch_size % (world * s.accumulate):
        raise ConfigError(f"train.batch_size={s.batch_size} must be divisible by the "
                          f"{world} processes × train.accumulate={s.accumulate}")
    model_spec = model_spec or ModelSpec()
    model, opt, sched = build(s, model_spec, device)
    if dataset is not None and len(dataset) != s.steps:
        raise ValueError(f"{name}: the dataset has {len(dataset)} steps, settings {s.steps}")
    own_share = world > 1 and dataset is not None

    def batches(step: int):  # the WILD pairs' reader is made after resuming or initialising
        data = dataset or ShardBatches(shards, s.batch_size, s.crop, s.seed, s.steps, rank, world)
        for blurry, sharp in batch_loader(data, step, s.workers):
            yield (blurry[rank::world], sharp[rank::world]) if own_share else (blurry, sharp)

    val_images = held_out_images(list(val_shards), s.val_images) if s.val_every else []

    def on_step(step: int, model: torch.nn.Module) -> dict[str, float]:
        if not val_images or step % s.val_every:
            return {}
        return {"val_psnr": validation_psnr(model, val_images, device, on_validation, step)}

    def init(model: torch.nn.Module) -> None:  # fine-tuning: its weights, not random ones
        if s.init_from:
            init_weights(model, Path(s.init_from))
            if rank == 0:
                print(f"{name}: starting from the weights of {s.init_from}")

    arch = {"arch": model_spec.arch, "arch_params": model.hparams}
    job = Job(name, model, opt, sched, loss_function(s.loss, model_spec.arch), batches,
              Path(out_dir), settings_hash, prepare=channels_last, on_step=on_step, init=init,
              extra={**arch, "settings": asdict(s)}, log_fields=("val_psnr",),
              hint="lower train.lr or check the shards")
    use_amp, precision = autocast_bf16(device, s.amp)
    if rank == 0:
        print(f"{name}: {precision}")
    recipe = Recipe(s.steps, s.checkpoint_every, s.log_every, use_amp, s.accumulate, s.ema,
                    s.grad_clip, s.tensorboard)
    result = fit(job, recipe, where)
    final = Path(out_dir) / "model.pt"
    if rank == 0:
        save_atomic({**arch, "model": result.model.state_dict(), "step": result.step,
                     "settings": asdict(s), "settings_hash": settings_hash,
                     "ema": s.ema}, final)
    release(where)
    return final


def channels_last(blurry: torch.Tensor, sharp: torch.Tensor, device: torch.device):
    """A batch on the device, the input channels-last (the layout the network is in)."""
    blurry = blurry.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
    return blurry, sharp.to(device, non_blocking=True)
