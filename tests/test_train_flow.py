"""FlowNetS training on synthetic pairs: exact flow, determinism, the multi-scale EPE loss,
learning, exact resume, and a checkpoint other tools can load (CPU, small frames)."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from wilddeblur.cli import main
from wilddeblur.flow.backends import make_backend
from wilddeblur.flow.flownet import estimate_flow, load_flownet
from wilddeblur.flow.synthetic import (
    HELDOUT_PHOTOS,
    TRAIN_PHOTOS,
    SyntheticSpec,
    make_pair,
)
from wilddeblur.flow.train_flow import (
    LOSS_WEIGHTS,
    SyntheticPairs,
    build,
    end_point_error,
    multiscale_epe,
    network_input,
    train_flownet,
)
from wilddeblur.flow.train_settings import FlowTrainSettings
from wilddeblur.video.demo import DEMO_CLIPS

SMALL = SyntheticSpec(height=96, width=128, noise=0.0, max_shift=6.0)


def warp_back(frame2: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """frame2 sampled at p + flow(p): equals frame1 where the flow is right."""
    h, w = flow.shape[:2]
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    return cv2.remap(frame2, xx + flow[..., 0], yy + flow[..., 1], cv2.INTER_LINEAR)


@pytest.mark.parametrize("split", ["train", "heldout"])
def test_synthetic_flow_is_exact_away_from_occlusions(split):
    for index in range(4):
        p = make_pair(index, SMALL, seed=1, split=split)
        assert p.frame1.shape == (96, 128, 3) and p.frame1.dtype == np.uint8
        assert p.flow.shape == (96, 128, 2) and p.flow.dtype == np.float32
        inner = cv2.erode(p.valid.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        assert inner.mean() > 0.5

        def err(flow, p=p, inner=inner):
            return np.abs(warp_back(p.frame2, flow).astype(float) - p.frame1)[inner].mean()

        true = err(p.flow)
        assert true < 0.7 * err(np.zeros_like(p.flow))
        # the true flow is a clear minimum: 0.3 px off in any direction is worse
        off = [err(p.flow + np.float32(d)) for d in ((0.3, 0), (-0.3, 0), (0, 0.3), (0, -0.3))]
        assert true < 0.8 * min(off)
        assert true < 4.0  # bilinear rendering + bilinear warping, 0..255 levels


def test_flow_convention_matches_the_backends():
    """A pure translation: the flow is constant and DIS (frame1 -> frame2) measures it."""
    spec = SyntheticSpec(height=128, width=160, max_rotation=0, max_zoom=0, min_objects=0,
                         max_objects=0, max_shift=3.0, noise=0.0)
    p = next(q for q in (make_pair(i, spec) for i in range(50)) if np.hypot(*q.flow[0, 0]) > 1.5)
    u, v = p.flow[0, 0]
    assert np.allclose(p.flow, [u, v], atol=1e-5)
    est = make_backend("dis")(p.frame1, p.frame2)[24:-24, 24:-24]
    assert np.median(est[..., 0]) == pytest.approx(u, abs=0.15)
    assert np.median(est[..., 1]) == pytest.approx(v, abs=0.15)


def test_pairs_are_deterministic_and_splits_use_disjoint_photos():
    a, b = make_pair(4, SMALL, seed=3), make_pair(4, SMALL, seed=3)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)
    assert not np.array_equal(a.frame1, make_pair(5, SMALL, seed=3).frame1)
    assert not np.array_equal(a.frame1, make_pair(4, SMALL, seed=4).frame1)
    assert not np.array_equal(a.frame1, make_pair(4, SMALL, seed=3, split="heldout").frame1)
    assert not set(TRAIN_PHOTOS) & set(HELDOUT_PHOTOS)
    test_clip_photos = {p for s in DEMO_CLIPS.values() if s.split == "test"
                        for p in (*s.background, s.object)}
    assert test_clip_photos <= set(HELDOUT_PHOTOS)


def test_motion_ranges_are_respected():
    spec = SyntheticSpec(height=96, width=128, max_shift=2.0, max_rotation=0, max_zoom=0,
                         min_objects=0, max_objects=0)
    mags = [np.hypot(*make_pair(i, spec).flow[0, 0]) for i in range(10)]
    assert max(mags) <= 2.0 + 1e-5
    with pytest.raises(ValueError, match="max_shift"):
        SyntheticSpec(max_shift=-1)


def test_multiscale_epe_on_hand_made_tensors():
    target = torch.zeros(2, 2, 8, 8)
    target[:, 0] = 3.0
    target[:, 1] = 4.0  # 5 everywhere
    outputs = [torch.zeros(2, 2, 8 // 2**k, 8 // 2**k) for k in range(4)] + [
        torch.zeros(2, 2, 1, 1)]  # flow2 8x8, flow3 4x4, flow4 2x2, flow5 1x1, flow6 1x1
    pixels = [64, 16, 4, 1, 1]
    expected = sum(w * 5 * n for w, n in zip(LOSS_WEIGHTS, pixels, strict=True))
    assert multiscale_epe(outputs, target).item() == pytest.approx(expected)
    # per sample: a batch of one gives the same value (sum over pixels / batch)
    assert multiscale_epe([o[:1] for o in outputs], target[:1]).item() == pytest.approx(expected)
    # flow2 weighs 0.005, flow6 0.32 (FlowNetPytorch's W2..W6)
    only6 = [torch.zeros_like(o) for o in outputs]
    only6[:4] = [target.new_tensor([3.0, 4.0]).view(1, 2, 1, 1).expand_as(o) for o in outputs[:4]]
    assert multiscale_epe(only6, target).item() == pytest.approx(0.32 * 5)
    # targets are area-averaged, not subsampled or rescaled
    t = torch.zeros(1, 2, 2, 2)
    t[0, 0] = torch.tensor([[0.0, 2.0], [4.0, 6.0]])
    one = [torch.zeros(1, 2, 1, 1)]
    assert multiscale_epe(one, t, weights=[1.0]).item() == pytest.approx(3.0)
    assert end_point_error(torch.zeros(1, 2, 1, 1), target[:1]).item() == pytest.approx(5.0)


def test_a_few_training_steps_reduce_the_loss():
    s = FlowTrainSettings(synthetic=SyntheticSpec(height=64, width=64), batch_size=2)
    model, opt, _ = build(s, torch.device("cpu"))
    frames, flow = zip(*(SyntheticPairs(s.synthetic, 0)[i] for i in range(2)), strict=True)
    x, target = network_input(torch.stack(frames)), torch.stack(flow) / s.div_flow
    model.train()
    losses = []
    for _ in range(3):
        loss = multiscale_epe(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


def test_training_resumes_exactly_and_exports_a_loadable_checkpoint(tmp_path, tiny_clip):
    flags = ["--steps", "2", "--batch-size", "2", "--height", "64", "--width", "64",
             "--eval-pairs", "1", "--demo-pairs", "2", "--checkpoint-every", "1",
             "--log-every", "1", "--workers", "0", "--device", "cpu"]
    full = tmp_path / "full"
    main(["train-flow", "--out-dir", str(full), "--demo-clips", str(tiny_clip), *flags])

    s = FlowTrainSettings(steps=2, batch_size=2, synthetic=SyntheticSpec(height=64, width=64),
                          eval_pairs=1, demo_pairs=0, checkpoint_every=1, log_every=1,
                          workers=0, device="cpu")
    cut = tmp_path / "cut"
    assert train_flownet(cut, s, stop_after_steps=2) is None  # killed after step 2
    assert torch.load(cut / "last.pt", weights_only=True)["step"] == 1
    assert len(pd.read_csv(cut / "log.csv")) == 2
    result = train_flownet(cut, s)
    assert result is not None and result["step"] == 2
    a, b = pd.read_csv(full / "log.csv"), pd.read_csv(cut / "log.csv")
    assert a["step"].tolist() == b["step"].tolist() == [1, 2]
    np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-5)
    np.testing.assert_allclose(a["epe"], b["epe"], rtol=1e-5)

    ckpt = torch.load(full / "flownets_trained.pth.tar", weights_only=True)
    assert set(ckpt) == {"epoch", "arch", "state_dict", "best_EPE", "div_flow"}
    assert ckpt["arch"] == "flownets" and ckpt["div_flow"] == 20.0
    model = load_flownet(full / "flownets_trained.pth.tar")
    p = make_pair(0, SyntheticSpec(height=64, width=64), split="heldout")
    flow = estimate_flow(model, p.frame1, p.frame2)
    assert flow.shape == (64, 64, 2) and flow.dtype == np.float32 and np.isfinite(flow).all()

    epe = pd.read_csv(full / "epe.csv")
    assert list(epe["method"]) == ["flownets-trained", "dis-medium", "farneback", "zero"] * 2
    assert set(epe["data"]) == {"synthetic-heldout 64x64", "demo-train-a"}
    assert (epe["pairs"] == [1] * 4 + [2] * 4).all() or (epe["pairs"] == [2] * 4 + [1] * 4).all()
    assert ckpt["best_EPE"] == pytest.approx(
        epe.loc[epe["data"].str.startswith("synthetic") & (epe["method"] == "flownets-trained"),
                "epe"].item(), rel=1e-5)
    demo = epe[epe["data"] == "demo-train-a"].set_index("method")
    assert demo.loc["dis-medium", "epe"] < demo.loc["zero", "epe"]  # the true flow is right
