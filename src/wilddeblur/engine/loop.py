"""The one training loop: DeblurNet and NAFNet (``training/``), FlowNetS (``flow/``) and Sun et
al.'s patch CNN (``evaluation/baselines/``) all run through :func:`fit`, which is given what
differs (a :class:`Job`: the network, its optimizer and schedule, the loss, the batches) and does
what they share, as the nanoGPT and torchvision reference loops do in one place:

* **resume** from ``last.pt`` when it was made with the same settings key (a checkpoint made
  with other settings is moved aside, never overwritten), restoring the weights, optimizer,
  schedule, moving average, RNG state, step and elapsed seconds: a resumed run repeats an
  uninterrupted one's steps exactly (batches are a function of the step);
* **step**: bf16 autocast when asked (``amp``), ``accumulate`` micro-batches per optimizer step
  (the batch cut in k parts, each loss weighted by its share, so the summed gradient is the
  whole batch's), norm clipping of the gradient (``grad_clip``), the schedule stepped once per
  optimizer step, the moving average of the weights (``ema``) updated;
* **data parallelism** under ``torchrun``: the network wrapped in DDP (gradients averaged,
  synchronised once per optimizer step), rank 0 alone writing logs and checkpoints;
* **NaN guard**: a non-finite loss is never applied; training stops with
  :class:`NonFiniteLossError` and the last good checkpoint stays;
* **log** (``log.csv``, optionally TensorBoard), **validation** (``Job.on_step``) and periodic
  **checkpoints**, all plain dicts loadable with ``weights_only=True``.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel as DDP
from tqdm import tqdm

from wilddeblur.engine.checkpoint import (
    load,
    resume_state,
    rng_state,
    save_atomic,
    set_rng_state,
    truncate_log,
)
from wilddeblur.engine.ema import WeightAverage
from wilddeblur.engine.placement import Placement
from wilddeblur.errors import ConfigError


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or Inf; the last good checkpoint is kept."""


@dataclass(frozen=True)
class Recipe:
    """The loop's own settings (a network's settings carry them under these names)."""

    steps: int
    checkpoint_every: int = 1000
    log_every: int = 10
    amp: bool = False
    accumulate: int = 1
    ema: float = 0.0
    grad_clip: float = 0.0
    tensorboard: bool = False

    def __post_init__(self) -> None:
        if self.accumulate < 1:
            raise ConfigError(f"train.accumulate must be >= 1, got {self.accumulate}")
        if not (self.ema == 0 or 0 < self.ema < 1):
            raise ConfigError(f"train.ema must be 0 (off) or in (0, 1), got {self.ema}")
        if self.grad_clip < 0:
            raise ConfigError(f"train.grad_clip must be >= 0 (0 = off), got {self.grad_clip}")


def to_device(inputs: Tensor, target: Tensor, device: torch.device) -> tuple[Tensor, Tensor]:
    return inputs.to(device, non_blocking=True), target.to(device, non_blocking=True)


def as_float(outputs):
    """Network outputs (a tensor or a tuple of them) in float32, out of autocast."""
    return tuple(o.float() for o in outputs) if isinstance(outputs, tuple) else outputs.float()


@dataclass
class Job:
    """What differs between networks. ``batches(step)``: the (inputs, target) batches from
    ``step`` on, on the CPU (each a pure function of its step); ``prepare``: a micro-batch to
    the device as the network takes it; ``loss(outputs, target)``: a mean over the samples;
    ``metrics(outputs, target)``: more log columns, computed at log steps; ``on_step(step,
    model)``: called by rank 0 after every step with the model evaluation uses, returns log
    columns (empty when it measured nothing; ``val_*`` columns get 4 decimals);
    ``init(model)``: called when starting afresh (fine-tuning's weights); ``extra``: kept in
    every checkpoint; ``hint``: what to try after a non-finite loss."""

    name: str
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    loss: Callable[[Any, Tensor], Tensor]
    batches: Callable[[int], Iterable[tuple[Tensor, Tensor]]]
    out_dir: Path
    key: str
    key_name: str = "settings_hash"
    prepare: Callable[[Tensor, Tensor, torch.device], tuple[Tensor, Tensor]] = to_device
    metrics: Callable[[Any, Tensor], dict[str, float]] | None = None
    on_step: Callable[[int, nn.Module], dict[str, float]] | None = None
    init: Callable[[nn.Module], None] | None = None
    extra: dict = field(default_factory=dict)
    log_fields: tuple[str, ...] = ()
    hint: str = "lower the learning rate"


@dataclass
class Result:
    """The trained network (the moving average of its weights when ``ema`` is on), the step
    reached, and the seconds spent training (over every resumed part)."""

    model: nn.Module
    step: int
    seconds: float


ONE_CPU = Placement()


def fit(job: Job, recipe: Recipe, where: Placement = ONE_CPU, *,
        stop_after_steps: int | None = None, time_limit_s: float | None = None) -> Result | None:
    """Train ``job`` until ``recipe.steps``, resuming from ``job.out_dir/last.pt``.

    ``stop_after_steps``: stop as if killed after that many steps of this call (nothing saved
    past the last periodic checkpoint; returns None). ``time_limit_s``: end early once this
    much time has passed in this call, with a checkpoint, as if at the end.
    """
    model, opt, sched, r = job.model, job.optimizer, job.scheduler, recipe
    out = Path(job.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    last, log = out / "last.pt", out / "log.csv"
    rank, world, device = where.rank, where.world, where.device
    ckpt = resume_state(last, job.key, job.key_name) if rank == 0 else None
    if world > 1:  # rank 0 decides (and moves a stale checkpoint aside); the others follow
        dist.barrier()
        if rank:
            ckpt = load(last) if last.exists() else None
    step, seconds0 = 0, 0.0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        if "rng" in ckpt:  # FlowNetS checkpoints from before the engine have none
            set_rng_state(ckpt["rng"])
        step, seconds0 = int(ckpt["step"]), float(ckpt.get("seconds", 0.0))
        if rank == 0:
            print(f"{job.name}: resuming from {last} at step {step}")
    elif job.init is not None:
        job.init(model)
    ema = WeightAverage(model, r.ema) if r.ema else None
    if ema is not None and ckpt is not None:
        ema.load_state_dict(ckpt["ema"])
    eval_model = ema.model if ema is not None else model
    fields = ["step", "loss", "lr", "seconds", *job.log_fields]
    if rank == 0:
        truncate_log(log, step, fields)
    net = DDP(model, device_ids=[where.local_rank] if device.type == "cuda" else None) \
        if world > 1 else model
    t0 = time.time()

    def seconds() -> float:
        return seconds0 + time.time() - t0

    def checkpoint(at: int) -> None:
        state = {**job.extra, "model": model.state_dict(), "optimizer": opt.state_dict(),
                 "scheduler": sched.state_dict(), "step": at, "rng": rng_state(),
                 "seconds": seconds(), job.key_name: job.key}
        if ema is not None:
            state["ema"] = ema.state_dict()
        save_atomic(state, last)

    board = tensorboard_writer(out) if r.tensorboard and rank == 0 else None
    start = step
    model.train()
    with ExitStack() as stack:
        fh = stack.enter_context(open(log, "a", newline="")) if rank == 0 else None
        writer = csv.DictWriter(fh, fieldnames=fields) if fh else None
        if writer and fh.tell() == 0:
            writer.writeheader()
        bar = stack.enter_context(tqdm(total=r.steps, initial=step, desc=f"train {job.name}",
                                       unit="step", mininterval=2, disable=rank != 0))
        batches = job.batches(step) if step < r.steps else ()
        for inputs, target in batches:
            lr = opt.param_groups[0]["lr"]  # the rate this step uses (the schedule then moves)
            logging = (step + 1) % r.log_every == 0 or step + 1 == r.steps
            loss, extra = optimizer_step(job, net, r, inputs, target, device, logging)
            if not math.isfinite(loss):
                raise NonFiniteLossError(
                    f"{job.name}: loss is {loss} at step {step + 1}; stopped. The last good "
                    f"checkpoint {last} is kept ({job.hint}).")
            sched.step()
            if ema is not None:
                ema.update(model)
            step += 1
            bar.update(1)
            measured = job.on_step(step, eval_model) if rank == 0 and job.on_step else {}
            extra |= measured
            if writer and (logging or measured):
                writer.writerow({"step": step, "loss": f"{loss:.6g}", "lr": f"{lr:.6g}",
                                 "seconds": f"{seconds():.2f}"}
                                | {k: f"{v:.4f}" if k.startswith("val_") else f"{v:.6g}"
                                   for k, v in extra.items()})
                fh.flush()
                bar.set_postfix(loss=f"{loss:.4g}")
                if board:
                    for k, v in {"loss": loss, "lr": lr, **extra}.items():
                        board.add_scalar(k, v, step)
            if stop_after_steps is not None and step - start >= stop_after_steps:
                return None
            out_of_time = time_limit_s is not None and time.time() - t0 >= time_limit_s
            if rank == 0 and (step % r.checkpoint_every == 0 or step == r.steps or out_of_time):
                checkpoint(step)
            if out_of_time:
                print(f"{job.name}: time limit reached at step {step} of {r.steps}")
                break
    if board:
        board.close()
    return Result(eval_model, step, seconds())


def optimizer_step(job: Job, net: nn.Module, r: Recipe, inputs: Tensor, target: Tensor,
                   device: torch.device, logging: bool) -> tuple[float, dict[str, float]]:
    """One optimizer step on a batch, in ``r.accumulate`` micro-batches; returns the batch's
    loss (averaged over processes: all stop together on a non-finite one) and, when
    ``logging``, ``job.metrics`` (weighted like the loss). A non-finite loss is not applied."""
    opt = job.optimizer
    n = inputs.shape[0]
    if n < r.accumulate:
        raise ConfigError(f"{job.name}: a batch of {n} cannot be cut in train.accumulate="
                          f"{r.accumulate} micro-batches")
    parts = list(zip(inputs.tensor_split(r.accumulate), target.tensor_split(r.accumulate),
                     strict=True))
    opt.zero_grad(set_to_none=True)
    total = torch.zeros((), device=device)
    metrics: dict[str, float] = {}
    for i, (x, y) in enumerate(parts):
        x, y = job.prepare(x, y, device)
        share = x.shape[0] / n
        sync = nullcontext() if i == len(parts) - 1 or not isinstance(net, DDP) else net.no_sync()
        with sync:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=r.amp):
                outputs = net(x)
            outputs = as_float(outputs)
            loss = job.loss(outputs, y)
            (loss if len(parts) == 1 else loss * share).backward()
        total += loss.detach() * share if len(parts) > 1 else loss.detach()
        if logging and job.metrics is not None:
            with torch.no_grad():
                for k, v in job.metrics(outputs, y).items():
                    metrics[k] = metrics.get(k, 0.0) + v * share
    if dist.is_initialized():
        dist.all_reduce(total)
        total /= dist.get_world_size()
    value = total.item()
    if math.isfinite(value):
        if r.grad_clip:
            nn.utils.clip_grad_norm_(net.parameters(), r.grad_clip)
        opt.step()
    else:
        opt.zero_grad(set_to_none=True)
    return value, metrics


def tensorboard_writer(out_dir: Path):
    """A TensorBoard writer into ``out_dir/tensorboard`` (needs the tensorboard package)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:
        raise RuntimeError("train.tensorboard: install the tensorboard package "
                           "(pip install tensorboard) or turn the option off") from err
    return SummaryWriter(str(out_dir / "tensorboard"))
