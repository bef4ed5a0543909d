"""Training FlowNetS (Dosovitskiy et al. 2015) on synthetic FlyingChairs-style pairs.

No pretrained FlowNet weights can be downloaded here, so this trains one from scratch on the
pairs of ``synthetic.py`` (real photos, exact flow), with FlowNetPytorch's recipe:

- input: RGB / 255 − ``CP_MEAN_RGB`` per frame, ``cat(frame1, frame2)`` (the preprocessing
  ``estimate_flow`` applies, so the trained model runs through the same code as a public one);
- target: flow / ``div_flow`` (20);
- loss: the multi-scale end-point error of FlowNetPytorch's ``multiscaleEPE``: at each of the
  five outputs flow2..flow6 the target is area-downsampled to the output's size (not rescaled),
  the per-pixel EPE is summed over pixels and divided by the batch size, and the scales are
  weighted 0.005, 0.01, 0.02, 0.08, 0.32 from flow2 (finest) to flow6 (coarsest), the pairing
  of FlowNetPytorch's ``--multiscale-weights`` (``W2 .. W6``, zipped with the outputs in the
  order flow2..flow6): the coarse scales, with few pixels in the sum, weigh more per pixel;
- Adam (β 0.9, 0.999), lr 1e-4, L2 weight decay 4e-4 on weights and none on biases, batch 8,
  lr × 0.5 every ``lr_step`` iterations (FlowNetPytorch halves it at fixed epochs).

Training runs through the engine's loop (:mod:`wilddeblur.engine.loop`), so it resumes from
``out_dir/last.pt`` exactly: the pairs of step k are a function of (seed, k). At the end the
model is written in the public ClementPinard checkpoint format (``save_flownet``), and
``epe.csv`` compares its end-point error with DIS (preset medium) and Farnebäck on held-out
synthetic pairs (photos never used in training) and, if given, on pairs of demo clips against
their true motion.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from wilddeblur.engine.device import pick_device
from wilddeblur.engine.loop import Job, Recipe, fit
from wilddeblur.engine.placement import Placement
from wilddeblur.fileio import write_csv_atomic
from wilddeblur.flow.backends import dis, farneback
from wilddeblur.flow.flownet import (
    CP_MEAN_RGB,
    estimate_flow_batch,
    save_flownet,
)
from wilddeblur.flow.synthetic import SyntheticSpec, make_pair
from wilddeblur.flow.train_settings import FlowTrainSettings
from wilddeblur.models.flownet_arch import FlowNet, FlowNetS

LOSS_WEIGHTS = (0.005, 0.01, 0.02, 0.08, 0.32)  # flow2, flow3, flow4, flow5, flow6
WEIGHTS_NAME = "flownets_trained.pth.tar"
EPE_NAME = "epe.csv"
EPE_PAIRS_NAME = "epe_pairs.csv"
TRAINED = "flownets-trained"


# --- loss -----------------------------------------------------------------------------------


def _epe_map(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-pixel end-point error (B, H, W) of (B, 2, H, W) flows."""
    return torch.linalg.vector_norm(pred - target, ord=2, dim=1)


def multiscale_epe(outputs: Sequence[torch.Tensor], target: torch.Tensor,
                   weights: Sequence[float] = LOSS_WEIGHTS) -> torch.Tensor:
    """FlowNet's training loss: Σ_k w_k · (Σ_pixels ‖out_k − area_k(target)‖₂) / batch.

    ``outputs`` are (flow2, flow3, ...) as FlowNet returns them in train mode, ``weights``
    pair with them in that order; ``target`` (B, 2, H, W) is already divided by ``div_flow``.
    """
    if len(outputs) != len(weights):
        raise ValueError(f"{len(outputs)} outputs but {len(weights)} weights")
    loss = target.new_zeros(())
    for out, weight in zip(outputs, weights, strict=True):
        scaled = F.interpolate(target, size=out.shape[-2:], mode="area")
        loss = loss + weight * _epe_map(out, scaled).sum() / out.shape[0]
    return loss


def end_point_error(flow2: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean EPE of the finest output bilinearly upsampled to the target's size (the value
    FlowNetPytorch reports; multiply by ``div_flow`` for pixels)."""
    up = F.interpolate(flow2, size=target.shape[-2:], mode="bilinear", align_corners=False)
    return _epe_map(up, target).mean()


# --- data -----------------------------------------------------------------------------------


class SyntheticPairs(Dataset):
    """Synthetic pair ``i`` as (frames (2, H, W, 3) uint8, flow (2, H, W) float32)."""

    def __init__(self, spec: SyntheticSpec, seed: int, split: str = "train") -> None:
        self.spec, self.seed, self.split = spec, seed, split

    def __len__(self) -> int:
        return 2**31 - 1  # pairs are made on demand; the sampler picks the indices

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        pair = make_pair(int(index), self.spec, self.seed, self.split)
        frames = torch.from_numpy(np.stack([pair.frame1, pair.frame2]))
        return frames, torch.from_numpy(pair.flow).permute(2, 0, 1).contiguous()


def _worker_init(_: int) -> None:
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def network_input(frames: torch.Tensor) -> torch.Tensor:
    """(B, 2, H, W, 3) uint8 pairs -> (B, 6, H, W) FlowNet input, as ``estimate_flow`` makes it."""
    x = frames.permute(0, 1, 4, 2, 3).float() / 255
    x = x - x.new_tensor(CP_MEAN_RGB).view(1, 1, 3, 1, 1)
    return x.flatten(1, 2)


# --- model and optimiser --------------------------------------------------------------------


def build(s: FlowTrainSettings, device: torch.device):
    """FlowNetS, Adam with FlowNetPytorch's parameter groups, and the step schedule."""
    torch.manual_seed(s.seed)
    model = FlowNetS(batch_norm=s.batch_norm, div_flow=s.div_flow).to(device)
    biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
    weights = [p for n, p in model.named_parameters() if not n.endswith("bias")]
    groups = [{"params": biases, "weight_decay": s.bias_decay},
              {"params": weights, "weight_decay": s.weight_decay}]
    try:
        opt = torch.optim.Adam(groups, lr=s.lr, betas=(s.beta1, s.beta2), fused=True)
    except (RuntimeError, TypeError):  # no fused kernel for this device
        opt = torch.optim.Adam(groups, lr=s.lr, betas=(s.beta1, s.beta2))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=s.lr_step, gamma=s.lr_decay)
    return model, opt, sched


def resume_key(s: FlowTrainSettings) -> str:
    """Hash of the settings a checkpoint must share to be resumed."""
    kept = {k: v for k, v in s.flat().items() if k not in FlowTrainSettings.RESUMABLE_CHANGES}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:16]


# --- evaluation -----------------------------------------------------------------------------


def _p99_magnitude(flow: np.ndarray) -> float:
    return float(np.percentile(np.hypot(flow[..., 0], flow[..., 1]), 99))


def heldout_pairs(s: FlowTrainSettings, n: int | None = None) -> list[dict]:
    """The first ``n`` (default ``s.eval_pairs``) held-out synthetic pairs."""
    out = []
    for i in range(s.eval_pairs if n is None else n):
        p = make_pair(i, s.synthetic, s.seed, "heldout")
        out.append({"data": f"synthetic-heldout {s.synthetic.height}x{s.synthetic.width}",
                    "pair": i,
                    "frame1": p.frame1, "frame2": p.frame2, "flow": p.flow})
    return out


def demo_pairs(clip: str | os.PathLike, n: int, factor: int = 3) -> list[dict]:
    """``n`` consecutive-frame pairs spread over a demo clip, decoded and downsampled by
    ``factor`` as the pipeline does, with the true flow in downsampled pixels (the clip's
    full-resolution ground truth, area-averaged and rescaled)."""
    from wilddeblur.video.demo import ground_truth_flow, motion_path
    from wilddeblur.video.downsample import downsampled_size
    from wilddeblur.video.io import decode_frames
    from wilddeblur.video.probe import probe

    clip = Path(clip)
    motion_csv = motion_path(clip)
    if not motion_csv.is_file():
        raise FileNotFoundError(f"{motion_csv}: no motion table beside the demo clip {clip}")
    motion = pd.read_csv(motion_csv)
    info = probe(clip)
    w, h = downsampled_size(info.width, info.height, factor)
    last = min(len(motion), info.frames) - 2
    wanted = sorted({int(round(t)) for t in np.linspace(0, last, n)}) if n and last >= 0 else []
    keep = set(wanted) | {t + 1 for t in wanted}
    frames: dict[int, np.ndarray] = {}
    start = 0
    for chunk in decode_frames(clip, w, h):
        for j in range(len(chunk)):
            if start + j in keep:
                frames[start + j] = chunk[j].copy()
        start += len(chunk)
    scale = np.array([w / info.width, h / info.height], np.float32)
    out = []
    for t in wanted:
        full = ground_truth_flow(motion, t, (info.width, info.height))
        gt = cv2.resize(full, (w, h), interpolation=cv2.INTER_AREA) * scale
        out.append({"data": clip.stem, "pair": t, "frame1": frames[t], "frame2": frames[t + 1],
                    "flow": gt.astype(np.float32)})
    return out


def compare_methods(model: FlowNet, pairs: list[dict], batch_size: int = 8) -> pd.DataFrame:
    """Per pair and method: mean EPE and the error of the p99 flow magnitude (the statistic
    selection thresholds), for the trained FlowNetS, DIS (medium), Farnebäck and zero flow."""
    rows = []
    methods = {"dis-medium": dis("medium"), "farneback": farneback()}
    by_data: dict[str, list[dict]] = {}
    for p in pairs:
        by_data.setdefault(p["data"], []).append(p)
    for group in by_data.values():
        f1 = np.stack([p["frame1"] for p in group])
        f2 = np.stack([p["frame2"] for p in group])
        ours = estimate_flow_batch(model, f1, f2, batch_size=batch_size)
        for k, p in enumerate(group):
            gt = p["flow"]
            estimates = {TRAINED: ours[k], **{m: fn(p["frame1"], p["frame2"])
                                              for m, fn in methods.items()},
                         "zero": np.zeros_like(gt)}
            for method, est in estimates.items():
                err = np.hypot(*(est - gt).transpose(2, 0, 1))
                rows.append({"data": p["data"], "pair": p["pair"], "method": method,
                             "epe": float(err.mean()),
                             "p99_err": abs(_p99_magnitude(est) - _p99_magnitude(gt)),
                             "gt_p99": _p99_magnitude(gt)})
    return pd.DataFrame(rows, columns=["data", "pair", "method", "epe", "p99_err", "gt_p99"])


def summarise(per_pair: pd.DataFrame) -> pd.DataFrame:
    """One row per (data, method): pairs, mean EPE, mean p99 error, mean true p99."""
    if per_pair.empty:
        return pd.DataFrame(columns=["data", "method", "pairs", "epe", "p99_err", "gt_p99"])
    order = {m: i for i, m in enumerate([TRAINED, "dis-medium", "farneback", "zero"])}
    out = (per_pair.groupby(["data", "method"], sort=False)
           .agg(pairs=("pair", "size"), epe=("epe", "mean"), p99_err=("p99_err", "mean"),
                gt_p99=("gt_p99", "mean")).reset_index())
    out["_o"] = out["method"].map(order)
    return out.sort_values(["data", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    write_csv_atomic(df, path, float_format="%.6g")


# --- training -------------------------------------------------------------------------------


def train_flownet(out_dir: str | os.PathLike, settings: FlowTrainSettings,
                  demo_clips: Sequence[str | os.PathLike] = (), factor: int = 3, *,
                  extra_pairs: Sequence[dict] = (), stop_after_steps: int | None = None,
                  time_limit_s: float | None = None) -> dict | None:
    """Train FlowNetS on synthetic pairs until ``settings.steps`` through the engine's loop
    (:func:`wilddeblur.engine.loop.fit`); resume from ``last.pt``.

    Writes into ``out_dir``: ``last.pt`` (resumable checkpoint), ``log.csv`` (step, loss, lr,
    seconds, train EPE in pixels), ``flownets_trained.pth.tar`` (ClementPinard format,
    loadable by ``load_flownet``), ``epe.csv`` (per data set and method) and
    ``epe_pairs.csv`` (per pair). ``demo_clips``: demo .mp4 files with their motion tables,
    downsampled by ``factor`` for the comparison; ``extra_pairs``: more evaluation pairs, as
    ``demo_pairs`` returns them (e.g. prepared on another machine).

    ``stop_after_steps``: stop as if killed after that many steps in this call (nothing is
    saved beyond the last periodic checkpoint; returns None). ``time_limit_s``: end training
    early once this much time has passed in this call, then checkpoint, export and evaluate as
    at the end. Returns ``{"weights", "epe", "epe_pairs", "step", "summary"}``.
    """
    s = settings
    device = pick_device(s.device)
    model, opt, sched = build(s, device)

    def batches(step: int) -> DataLoader:
        return DataLoader(SyntheticPairs(s.synthetic, s.seed, "train"), batch_size=s.batch_size,
                          sampler=range(step * s.batch_size, s.steps * s.batch_size),
                          num_workers=s.workers, worker_init_fn=_worker_init,
                          pin_memory=device.type == "cuda", persistent_workers=False)

    def prepare(frames: torch.Tensor, flow: torch.Tensor, device: torch.device):
        return (network_input(frames.to(device, non_blocking=True)),
                flow.to(device, non_blocking=True) / s.div_flow)

    def metrics(outputs, target) -> dict[str, float]:
        return {"epe": s.div_flow * end_point_error(outputs[0], target).item()}

    job = Job("flownets", model, opt, sched, multiscale_epe, batches, Path(out_dir),
              resume_key(s), key_name="resume_key", prepare=prepare, metrics=metrics,
              extra={"arch": model.arch, "settings": s.flat()}, log_fields=("epe",),
              hint="lower the lr")
    # bf16 autocast on a GPU only: FlowNetS on a CPU trains in fp32 (its published recipe)
    recipe = Recipe(s.steps, s.checkpoint_every, s.log_every, amp=s.amp and device.type == "cuda")
    result = fit(job, recipe, Placement(device), stop_after_steps=stop_after_steps,
                 time_limit_s=time_limit_s)
    if result is None:
        return None
    return _finish(model, Path(out_dir), s, result.step, demo_clips, factor, extra_pairs)


def _finish(model: FlowNet, out: Path, s: FlowTrainSettings, step: int,
            demo_clips: Sequence[str | os.PathLike], factor: int,
            extra_pairs: Sequence[dict]) -> dict:
    """Evaluate the trained model against DIS and Farnebäck, then export it."""
    model.eval()
    pairs = heldout_pairs(s)
    for clip in demo_clips:
        pairs += demo_pairs(clip, s.demo_pairs, factor)
    pairs += list(extra_pairs)
    per_pair = compare_methods(model, pairs)
    summary = summarise(per_pair)
    held = summary[(summary["method"] == TRAINED)
                   & summary["data"].str.startswith("synthetic-heldout")]
    best = float(held["epe"].iloc[0]) if len(held) else None
    weights = out / WEIGHTS_NAME
    save_flownet(model.cpu(), weights, epoch=step, best_epe=best)
    _write_csv(per_pair, out / EPE_PAIRS_NAME)
    _write_csv(summary, out / EPE_NAME)
    if not summary.empty:
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return {"weights": weights, "epe": out / EPE_NAME, "epe_pairs": out / EPE_PAIRS_NAME,
            "step": step, "summary": summary}
