"""Training a network of the registry: DeblurNet as the paper does (§3: Eq. (1), Adam (β 0.9,
0.999), lr 1e-3 × 0.75 every 10⁴ iterations, batch 10), NAFNet with its own loss and settings.

The loop is small on purpose (nanoGPT / torchvision references): a settings dataclass, one
function per step, a plain-dict checkpoint holding everything needed to resume exactly (model,
optimizer, scheduler, step, RNG state). A rerun resumes from ``last.pt`` when its settings hash
matches; a checkpoint made with other settings is moved aside, never overwritten.

Data-parallel training: started by ``torchrun`` (``WORLD_SIZE`` > 1), each process takes its
share of every batch (``batch_size`` is the global batch), gradients are averaged by DDP, and
rank 0 alone writes logs and checkpoints. The same code runs on one GPU and on the CPU. Batch
normalisation statistics stay per process (the paper's 2 GPUs give no detail).
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import Dataset
from tqdm import tqdm

from wilddeblur.dataset.shards import open_shard
from wilddeblur.device import pick_device
from wilddeblur.engine.checkpoint import (
    load,
    resume_state,
    rng_state,
    save_atomic,
    set_rng_state,
    truncate_log,
)
from wilddeblur.errors import ConfigError
from wilddeblur.evaluation.inference import deblur_array
from wilddeblur.evaluation.metrics import psnr, to_uint8
from wilddeblur.models.registry import ModelSpec, init_weights
from wilddeblur.training.data import ShardBatches, batch_loader
from wilddeblur.training.losses import loss_function
from wilddeblur.training.settings import TrainSettings


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or Inf; the last good checkpoint is kept."""


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


def train_step(model, opt, sched, blurry: torch.Tensor, sharp: torch.Tensor,
               device: torch.device, use_amp: bool, loss_fn: Callable) -> torch.Tensor:
    """One iteration: forward (bf16 autocast on CUDA when ``use_amp``), the loss, optimizer
    step, schedule step. Returns the loss (averaged over processes when distributed); a
    non-finite loss is not applied."""
    blurry = blurry.to(device, non_blocking=True)
    sharp = sharp.to(device, non_blocking=True)
    blurry = blurry.contiguous(memory_format=torch.channels_last)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
        outputs = model(blurry)
    outputs = tuple(o.float() for o in outputs) if isinstance(outputs, tuple) else outputs.float()
    loss = loss_fn(outputs, sharp)
    mean = loss.detach().clone()
    if dist.is_initialized():  # every process sees the mean loss, so all stop together
        dist.all_reduce(mean)
        mean /= dist.get_world_size()
    if torch.isfinite(mean):
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return mean


LOG_FIELDS = ["step", "loss", "lr", "seconds", "val_psnr"]


def distributed() -> tuple[int, int, int]:
    """(rank, local rank, world size) from torchrun's environment; (0, 0, 1) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")), world


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
    """Train ``model_spec``'s network (default: DeblurNet) on ``shards`` until ``s.steps``; write
    ``out_dir/model.pt`` (recording the architecture) and return its path.

    ``dataset`` replaces the WILD pairs of ``shards`` (e.g. :class:`SIBatches` for
    DeblurNetSI): item ``step`` must be a batch, a pure function of (seed, step), and its
    length ``s.steps``. ``out_dir/last.pt`` is the resumable checkpoint, ``out_dir/log.csv``
    the loss log (and ``out_dir/tensorboard`` with ``s.tensorboard``). Every ``s.val_every``
    steps the PSNR on the first ``s.val_images`` images of ``val_shards`` is logged: for
    monitoring only, no model is chosen by it. ``on_validation(model, step)`` is called then
    too, in eval mode (a benchmark's own measurements).
    """
    rank, local_rank, world = distributed()
    if s.batch_size % world:
        raise ValueError(f"train.batch_size={s.batch_size} must be divisible by the "
                         f"{world} processes")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    last, log = out_dir / "last.pt", out_dir / "log.csv"
    device = pick_device(s.device)
    if world > 1:
        if device.type == "cuda":
            device = torch.device("cuda", local_rank)
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    model_spec = model_spec or ModelSpec()
    model, opt, sched = build(s, model_spec, device)
    loss_fn = loss_function(s.loss, model_spec.arch)
    step = 0
    ckpt = resume_state(last, settings_hash) if rank == 0 else None
    if world > 1:  # rank 0 decides (and moves a stale checkpoint aside); the others follow
        dist.barrier()
        if rank:
            ckpt = load(last) if last.exists() else None
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        set_rng_state(ckpt["rng"])
        step = int(ckpt["step"])
        if rank == 0:
            print(f"{name}: resuming from {last} at step {step}")
    elif s.init_from:  # fine-tuning: its weights, not random ones, at step 0
        init_weights(model, Path(s.init_from))
        if rank == 0:
            print(f"{name}: starting from the weights of {s.init_from}")
    if rank == 0:
        truncate_log(log, step, LOG_FIELDS)
    net = DDP(model, device_ids=[local_rank] if device.type == "cuda" else None) \
        if world > 1 else model

    arch = {"arch": model_spec.arch, "arch_params": model.hparams}

    def checkpoint(at: int) -> None:
        save_atomic({**arch, "model": model.state_dict(), "optimizer": opt.state_dict(),
                     "scheduler": sched.state_dict(), "step": at, "rng": rng_state(),
                     "settings": asdict(s), "settings_hash": settings_hash}, last)

    if dataset is None:
        dataset = ShardBatches(shards, s.batch_size, s.crop, s.seed, s.steps, rank, world)
    elif len(dataset) != s.steps:
        raise ValueError(f"{name}: the dataset has {len(dataset)} steps, settings {s.steps}")
    own_share = world > 1 and not isinstance(dataset, ShardBatches)
    val_images = held_out_images(list(val_shards), s.val_images) if s.val_every else []
    board = tensorboard_writer(out_dir) if s.tensorboard and rank == 0 else None
    use_amp = s.amp and device.type == "cuda"
    model.train()
    t0 = time.time()
    with open(log, "a", newline="") if rank == 0 else contextlib.nullcontext() as fh:
        writer = csv.DictWriter(fh, fieldnames=LOG_FIELDS) if fh else None
        if writer and fh.tell() == 0:
            writer.writeheader()
        bar = tqdm(total=s.steps, initial=step, desc=f"train {name}", unit="step",
                   mininterval=2, disable=rank != 0)
        for blurry, sharp in batch_loader(dataset, step, s.workers):
            if own_share:
                blurry, sharp = blurry[rank::world], sharp[rank::world]
            lr = opt.param_groups[0]["lr"]  # the rate this step uses (the schedule then moves)
            loss = train_step(net, opt, sched, blurry, sharp, device, use_amp, loss_fn)
            if not math.isfinite(loss.item()):
                raise NonFiniteLossError(
                    f"{name}: loss is {loss.item()} at step {step + 1}; stopped. The last good "
                    f"checkpoint {last} is kept (lower train.lr or check the shards).")
            step += 1
            bar.update(1)
            val = (validation_psnr(model, val_images, device, on_validation, step)
                   if val_images and rank == 0 and step % s.val_every == 0 else None)
            if writer and (step % s.log_every == 0 or step == s.steps or val is not None):
                writer.writerow({"step": step, "loss": f"{loss.item():.6g}",
                                 "lr": f"{lr:.6g}",
                                 "seconds": f"{time.time() - t0:.2f}",
                                 "val_psnr": "" if val is None else f"{val:.4f}"})
                fh.flush()
                bar.set_postfix(loss=f"{loss.item():.4g}")
                if board:
                    board.add_scalar("loss", loss.item(), step)
                    board.add_scalar("lr", lr, step)
                    if val is not None:
                        board.add_scalar("val_psnr", val, step)
            if rank == 0 and (step % s.checkpoint_every == 0 or step == s.steps):
                checkpoint(step)
        bar.close()
    if board:
        board.close()
    final = out_dir / "model.pt"
    if rank == 0:
        save_atomic({**arch, "model": model.state_dict(), "step": step,
                     "settings": asdict(s), "settings_hash": settings_hash}, final)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return final


def tensorboard_writer(out_dir: Path):
    """A TensorBoard writer into ``out_dir/tensorboard`` (needs the tensorboard package)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:
        raise RuntimeError("train.tensorboard: install the tensorboard package "
                           "(pip install tensorboard) or turn the option off") from err
    return SummaryWriter(str(out_dir / "tensorboard"))
