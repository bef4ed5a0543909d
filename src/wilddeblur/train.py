"""Training DeblurNet (§3): Adam (β 0.9, 0.999), lr 1e-3 × 0.75 every 10⁴ iterations, batch 10.

The loop is small on purpose (nanoGPT / torchvision references): a settings dataclass, one
function per step, a plain-dict checkpoint holding everything needed to resume exactly (model,
optimizer, scheduler, step, RNG state). A rerun resumes from ``last.pt`` when its settings hash
matches; a checkpoint made with other settings is moved aside, never overwritten.
"""

from __future__ import annotations

import csv
import math
import os
import time
from dataclasses import asdict
from pathlib import Path

import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from wilddeblur.checkpoint import load, rng_state, save_atomic, set_rng_state
from wilddeblur.data import ShardBatches, batch_loader
from wilddeblur.losses import multiscale_loss
from wilddeblur.models import DeblurNet
from wilddeblur.settings import TrainSettings


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or Inf; the last good checkpoint is kept."""


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def build(s: TrainSettings, device: torch.device):
    """Model, optimizer and the paper's step schedule (stepped once per iteration)."""
    torch.manual_seed(s.seed)
    model = DeblurNet().to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=s.lr, betas=(s.beta1, s.beta2))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=s.lr_step, gamma=s.lr_decay)
    return model, opt, sched


def train_step(model, opt, sched, blurry: torch.Tensor, sharp: torch.Tensor,
               device: torch.device, use_amp: bool) -> torch.Tensor:
    """One iteration: forward (bf16 autocast on CUDA when ``use_amp``), three-scale loss, Adam
    step, schedule step. Returns the loss; a non-finite loss is not applied."""
    blurry = blurry.to(device, non_blocking=True)
    sharp = sharp.to(device, non_blocking=True)
    if device.type == "cuda":
        blurry = blurry.contiguous(memory_format=torch.channels_last)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
        outputs = model(blurry)
    loss = multiscale_loss(tuple(o.float() for o in outputs), sharp)
    if torch.isfinite(loss):
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return loss.detach()


def resume_state(last: Path, settings_hash: str) -> dict | None:
    """The checkpoint to resume from, or None; one made with other settings is moved aside."""
    if not last.exists():
        return None
    ckpt = load(last)
    if ckpt.get("settings_hash") == settings_hash:
        return ckpt
    aside = last.with_name(f"last.{ckpt.get('settings_hash', 'unknown')[:12]}.pt")
    os.replace(last, aside)
    print(f"{last}: made with other settings; moved to {aside.name}, starting afresh")
    return None


def truncate_log(log: Path, step: int) -> None:
    """Keep only log rows up to ``step`` (rows after the last checkpoint are redone)."""
    if not log.exists():
        return
    with open(log, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if int(r["step"]) <= step]
    with open(log, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=LOG_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


LOG_FIELDS = ["step", "loss", "lr", "seconds"]


def train(shards: list[Path], out_dir: Path, s: TrainSettings, settings_hash: str,
          name: str = "DeblurNetWILD", dataset: Dataset | None = None) -> Path:
    """Train on ``shards`` until ``s.steps``; write ``out_dir/model.pt`` and return its path.

    ``dataset`` replaces the WILD pairs of ``shards`` (e.g. :class:`SIBatches` for
    DeblurNetSI): item ``step`` must be a batch, a pure function of (seed, step), and its
    length ``s.steps``. ``out_dir/last.pt`` is the resumable checkpoint, ``out_dir/log.csv``
    the loss log.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    last, log = out_dir / "last.pt", out_dir / "log.csv"
    device = pick_device(s.device)
    model, opt, sched = build(s, device)
    step = 0
    ckpt = resume_state(last, settings_hash)
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        set_rng_state(ckpt["rng"])
        step = int(ckpt["step"])
        print(f"{name}: resuming from {last} at step {step}")
    truncate_log(log, step)

    def checkpoint(at: int) -> None:
        save_atomic({"model": model.state_dict(), "optimizer": opt.state_dict(),
                     "scheduler": sched.state_dict(), "step": at, "rng": rng_state(),
                     "settings": asdict(s), "settings_hash": settings_hash}, last)

    if dataset is None:
        dataset = ShardBatches(shards, s.batch_size, s.crop, s.seed, s.steps)
    elif len(dataset) != s.steps:
        raise ValueError(f"{name}: the dataset has {len(dataset)} steps, settings {s.steps}")
    use_amp = s.amp and device.type == "cuda"
    model.train()
    t0 = time.time()
    with open(log, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=LOG_FIELDS)
        if fh.tell() == 0:
            writer.writeheader()
        bar = tqdm(total=s.steps, initial=step, desc=f"train {name}", unit="step", mininterval=2)
        for blurry, sharp in batch_loader(dataset, step, s.workers):
            loss = train_step(model, opt, sched, blurry, sharp, device, use_amp)
            if not math.isfinite(loss.item()):
                raise NonFiniteLossError(
                    f"{name}: loss is {loss.item()} at step {step + 1}; stopped. The last good "
                    f"checkpoint {last} is kept (lower train.lr or check the shards).")
            step += 1
            bar.update(1)
            if step % s.log_every == 0 or step == s.steps:
                writer.writerow({"step": step, "loss": f"{loss.item():.6g}",
                                 "lr": f"{sched.get_last_lr()[0]:.6g}",
                                 "seconds": f"{time.time() - t0:.2f}"})
                fh.flush()
                bar.set_postfix(loss=f"{loss.item():.4g}")
            if step % s.checkpoint_every == 0 or step == s.steps:
                checkpoint(step)
        bar.close()
    final = out_dir / "model.pt"
    save_atomic({"arch": "DeblurNet", "model": model.state_dict(), "step": step,
                 "settings": asdict(s), "settings_hash": settings_hash}, final)
    return final


def load_model(path: Path, device: torch.device | str = "cpu") -> DeblurNet:
    """A trained DeblurNet from ``model.pt`` (or a ``last.pt`` checkpoint), in eval mode."""
    ckpt = load(path, map_location=device)
    if "model" not in ckpt:
        raise RuntimeError(f"{path}: no 'model' entry; not a DeblurNet checkpoint")
    model = DeblurNet()
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as err:
        raise RuntimeError(f"{path}: weights do not fit DeblurNet: {err}") from err
    return model.to(device).eval()
