"""The engine's loop (wilddeblur.engine.loop) beyond resuming: gradient accumulation against the
whole batch, the moving average of the weights against a hand-computed one, gradient clipping
against the clipped gradient, and exact resumption with each of them on."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from torch import nn

import wilddeblur.training.loop as train_module
from tests.test_train import SMALL_NAFNET, interrupted_at, settings, shards  # noqa: F401
from wilddeblur.engine.loop import Job, Recipe, optimizer_step
from wilddeblur.errors import ConfigError
from wilddeblur.models.registry import ModelSpec
from wilddeblur.training.loop import build, channels_last
from wilddeblur.training.losses import multiscale_loss, psnr_loss

CPU = torch.device("cpu")


def one_step(model: nn.Module, loss, batch, recipe: Recipe, opt=None) -> nn.Module:
    """``model`` after one optimizer step of the engine on ``batch`` (its gradients kept)."""
    opt = opt or torch.optim.Adam(model.parameters(), lr=1e-3)
    job = Job("t", model, opt, None, loss, lambda _: (), Path("."), "", prepare=channels_last)
    optimizer_step(job, model, recipe, *batch, CPU, False)
    return model


def batch(n: int = 4, size: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g), torch.rand(n, 3, size, size, generator=g)


@pytest.mark.parametrize("k", [2, 4])
def test_accumulated_micro_batches_give_the_whole_batchs_gradient_deblurnet(k):
    """DeblurNet with its batch normalisation in eval mode (running statistics: each sample's
    output depends on itself alone, so the k micro-batch losses weighted by their share sum
    to the whole batch's loss, exactly in real arithmetic). In train mode BN normalises each
    micro-batch by its own statistics and the two differ, as they differ between processes
    under DDP."""
    model, _, _ = build(settings(), ModelSpec("deblurnet", {"width": 0.1}), CPU)
    whole, parts = model.eval(), copy.deepcopy(model).eval()
    one_step(whole, multiscale_loss, batch(), Recipe(1))
    one_step(parts, multiscale_loss, batch(), Recipe(1, accumulate=k))
    for (name, a), b in zip(whole.named_parameters(), parts.parameters(), strict=True):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-4, atol=1e-7, msg=name)
        torch.testing.assert_close(b, a, rtol=0, atol=1e-6, msg=name)


def test_accumulated_micro_batches_give_the_whole_batchs_gradient_nafnet():
    """NAFNet (no batch statistics) in train mode, with its per-image PSNR loss."""
    model, _, _ = build(settings(), SMALL_NAFNET, CPU)
    whole, parts = model.train(), copy.deepcopy(model).train()
    one_step(whole, psnr_loss, batch(), Recipe(1))
    one_step(parts, psnr_loss, batch(), Recipe(1, accumulate=2))
    for (name, a), b in zip(whole.named_parameters(), parts.parameters(), strict=True):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-4, atol=1e-7, msg=name)


def test_accumulation_through_training_equals_the_whole_batch(shards, tmp_path):  # noqa: F811
    """Three steps of NAFNet's training, batch 4 whole or in 2 micro-batches of 2."""
    s = dict(steps=3, batch_size=4, loss="l1", schedule="constant", amp=False)  # fp32
    a = train_module.train(shards, tmp_path / "a", settings(**s), "h", model_spec=SMALL_NAFNET)
    b = train_module.train(shards, tmp_path / "b", settings(**s, accumulate=2), "h",
                           model_spec=SMALL_NAFNET)
    wa, wb = (torch.load(p, weights_only=True)["model"] for p in (a, b))
    moved = max((torch.load(a, weights_only=True)["model"][k] - v).abs().max().item()
                for k, v in build(settings(), SMALL_NAFNET, CPU)[0].state_dict().items())
    assert moved > 1e-3  # the weights did change
    for key in wa:
        torch.testing.assert_close(wb[key], wa[key], rtol=0, atol=1e-5, msg=key)


def test_a_batch_the_micro_batches_cannot_divide_is_refused(shards, tmp_path):  # noqa: F811
    with pytest.raises(ConfigError, match="accumulate=3"):
        train_module.train(shards, tmp_path, settings(batch_size=4, accumulate=3), "h")


def test_moving_average_is_the_hand_computed_one_over_three_steps(shards, tmp_path):  # noqa: F811
    """e₀ = the initial weights, e ← d·e + (1−d)·p after each step: with the weights p₁, p₂,
    p₃ of runs stopped after 1, 2, 3 steps (a constant rate: the same trajectory),
    e₃ = d³p₀ + d²(1−d)p₁ + d(1−d)p₂ + (1−d)p₃; model.pt holds it, last.pt both."""
    d = 0.6
    s = dict(loss="l1", schedule="constant", lr=1e-2)
    weights = [build(settings(**s), SMALL_NAFNET, CPU)[0].state_dict()]
    for n in (1, 2, 3):
        out = train_module.train(shards, tmp_path / f"p{n}", settings(steps=n, **s), "h",
                                 model_spec=SMALL_NAFNET)
        weights.append(torch.load(out, weights_only=True)["model"])
    out = train_module.train(shards, tmp_path / "ema", settings(steps=3, ema=d, **s), "h",
                             model_spec=SMALL_NAFNET)
    averaged = torch.load(out, weights_only=True)
    last = torch.load(tmp_path / "ema" / "last.pt", weights_only=True)
    assert averaged["ema"] == d
    for key, e3 in averaged["model"].items():
        p0, p1, p2, p3 = (w[key] for w in weights)
        hand = d**3 * p0 + d**2 * (1 - d) * p1 + d * (1 - d) * p2 + (1 - d) * p3
        torch.testing.assert_close(e3, hand, rtol=1e-5, atol=1e-6, msg=key)
        torch.testing.assert_close(last["ema"][key], e3, rtol=0, atol=0)
        torch.testing.assert_close(last["model"][key], p3, rtol=0, atol=0)
    assert any(not torch.equal(averaged["model"][k], weights[3][k]) for k in weights[3])


def test_gradient_clipping_scales_the_gradient_to_the_norm():
    """SGD with rate 1: the step is minus the gradient, clipped to norm c when longer, and
    unchanged when shorter."""
    model, _, _ = build(settings(), SMALL_NAFNET, CPU)
    x, y = batch()
    reference = copy.deepcopy(model)
    psnr_loss(reference(x), y).backward()
    grads = [p.grad.clone() for p in reference.parameters()]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    for c, scale in ((norm.item() / 4, 0.25), (norm.item() * 4, 1.0)):
        clipped = copy.deepcopy(model)
        one_step(clipped, psnr_loss, (x, y), Recipe(1, grad_clip=c),
                 torch.optim.SGD(clipped.parameters(), lr=1.0))
        for p0, p1, g in zip(model.parameters(), clipped.parameters(), grads, strict=True):
            torch.testing.assert_close(p0 - p1, scale * g, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("extra", [{"accumulate": 2}, {"ema": 0.9}, {"grad_clip": 0.05},
                                   {"accumulate": 2, "ema": 0.9, "grad_clip": 0.05}],
                         ids=["accumulate", "ema", "grad_clip", "all"])
def test_resumed_run_equals_an_uninterrupted_one_with_each_option(shards, tmp_path, monkeypatch,  # noqa: F811
                                                                  extra):
    """4 steps straight, or killed during step 3 (last.pt at step 2) and resumed: the same
    weights, moving average and log to the last bit."""
    s = settings(steps=4, batch_size=4, loss="l1", schedule="cosine", **extra)
    straight = train_module.train(shards, tmp_path / "a", s, "h", model_spec=SMALL_NAFNET)
    real = train_module.loss_function("l1", "nafnet")
    calls_per_step = extra.get("accumulate", 1)
    monkeypatch.setattr(train_module, "loss_function",
                        lambda name, arch: interrupted_at(2 * calls_per_step + 1, real))
    with pytest.raises(KeyboardInterrupt):
        train_module.train(shards, tmp_path / "b", s, "h", model_spec=SMALL_NAFNET)
    assert torch.load(tmp_path / "b" / "last.pt", weights_only=True)["step"] == 2
    monkeypatch.setattr(train_module, "loss_function", lambda name, arch: real)
    resumed = train_module.train(shards, tmp_path / "b", s, "h", model_spec=SMALL_NAFNET)
    for a, b in ((straight, resumed), (tmp_path / "a" / "last.pt", tmp_path / "b" / "last.pt")):
        ca, cb = torch.load(a, weights_only=True), torch.load(b, weights_only=True)
        for part in ("model", "ema"):  # model.pt's "ema" is the decay, last.pt's the weights
            for key in ca[part] if isinstance(ca.get(part), dict) else ():
                torch.testing.assert_close(cb[part][key], ca[part][key], rtol=0, atol=0)
    logs = [(tmp_path / run / "log.csv").read_text().splitlines() for run in ("a", "b")]
    assert [r.split(",")[:3] for r in logs[0]] == [r.split(",")[:3] for r in logs[1]]
