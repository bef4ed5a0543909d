"""FlowNet layouts, correlation, checkpoint loading and inference (CPU, random weights)."""

from __future__ import annotations

import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from wilddeblur.flow.backends import make_backend
from wilddeblur.flow.flownet import (
    FlowNetCheckpointError,
    estimate_flow,
    estimate_flow_batch,
    flownet_backend,
    infer_arch,
    load_flownet,
    save_flownet,
)
from wilddeblur.models.correlation import correlate, correlation_layer
from wilddeblur.models.flownet_arch import ARCHS, FlowNetC, FlowNetS, build_flownet

# ClementPinard FlowNetS / FlowNetC without BatchNorm, as printed from the reference classes.
_DECODER = [
    ("deconv5.0.weight", (1024, 512, 4, 4)),
    ("deconv4.0.weight", (1026, 256, 4, 4)),
    ("deconv3.0.weight", (770, 128, 4, 4)),
    ("deconv2.0.weight", (386, 64, 4, 4)),
    ("predict_flow6.weight", (2, 1024, 3, 3)),
    ("predict_flow5.weight", (2, 1026, 3, 3)),
    ("predict_flow4.weight", (2, 770, 3, 3)),
    ("predict_flow3.weight", (2, 386, 3, 3)),
    ("predict_flow2.weight", (2, 194, 3, 3)),
    ("upsampled_flow6_to_5.weight", (2, 2, 4, 4)),
    ("upsampled_flow5_to_4.weight", (2, 2, 4, 4)),
    ("upsampled_flow4_to_3.weight", (2, 2, 4, 4)),
    ("upsampled_flow3_to_2.weight", (2, 2, 4, 4)),
]
_ENCODER_TAIL = [
    ("conv4.0.weight", (512, 256, 3, 3)), ("conv4.0.bias", (512,)),
    ("conv4_1.0.weight", (512, 512, 3, 3)), ("conv4_1.0.bias", (512,)),
    ("conv5.0.weight", (512, 512, 3, 3)), ("conv5.0.bias", (512,)),
    ("conv5_1.0.weight", (512, 512, 3, 3)), ("conv5_1.0.bias", (512,)),
    ("conv6.0.weight", (1024, 512, 3, 3)), ("conv6.0.bias", (1024,)),
    ("conv6_1.0.weight", (1024, 1024, 3, 3)), ("conv6_1.0.bias", (1024,)),
]
CP_FLOWNETS = [
    ("conv1.0.weight", (64, 6, 7, 7)), ("conv1.0.bias", (64,)),
    ("conv2.0.weight", (128, 64, 5, 5)), ("conv2.0.bias", (128,)),
    ("conv3.0.weight", (256, 128, 5, 5)), ("conv3.0.bias", (256,)),
    ("conv3_1.0.weight", (256, 256, 3, 3)), ("conv3_1.0.bias", (256,)),
    *_ENCODER_TAIL, *_DECODER,
]
CP_FLOWNETC = [
    ("conv1.0.weight", (64, 3, 7, 7)), ("conv1.0.bias", (64,)),
    ("conv2.0.weight", (128, 64, 5, 5)), ("conv2.0.bias", (128,)),
    ("conv3.0.weight", (256, 128, 5, 5)), ("conv3.0.bias", (256,)),
    ("conv_redir.0.weight", (32, 256, 1, 1)), ("conv_redir.0.bias", (32,)),
    ("conv3_1.0.weight", (256, 473, 3, 3)), ("conv3_1.0.bias", (256,)),
    *_ENCODER_TAIL, *_DECODER,
]
# (entries, elements incl. buffers) from the notes' inventories
COUNTS = {
    "flownets": (33, 38_675_536),
    "flownetc": (35, 39_174_320),
    "flownets_bn": (73, 38_689_946),
    "flownetc_bn": (79, 39_188_827),
    "FlowNet2S": (42, 38_676_506),
    "FlowNet2C": (48, 39_175_298),
}


def with_bn(inv):
    """BatchNorm variant: conv biases become BatchNorm parameters and buffers."""
    out = []
    for key, shape in inv:
        if key.startswith("conv") and key.endswith(".0.bias"):
            stem = key[: -len(".0.bias")]
            out += [(f"{stem}.1.{n}", shape) for n in ("weight", "bias", "running_mean",
                                                        "running_var")]
            out.append((f"{stem}.1.num_batches_tracked", ()))
        else:
            out.append((key, shape))
    return out


def nvidia(inv, upsample_bias):
    """NVIDIA variant: biases on deconv, predict_flow (and upsampled_flow for FlowNet2-C)."""
    out = []
    for key, shape in inv:
        out.append((key, shape))
        if key.startswith("deconv"):
            out.append((key.replace("weight", "bias"), (shape[1],)))
        elif key.startswith("predict_flow") or (upsample_bias and key.startswith("upsampled")):
            out.append((key.replace("weight", "bias"), (2,)))
    return out


EXPECTED = {
    "flownets": CP_FLOWNETS,
    "flownetc": CP_FLOWNETC,
    "flownets_bn": with_bn(CP_FLOWNETS),
    "flownetc_bn": with_bn(CP_FLOWNETC),
    "FlowNet2S": nvidia(CP_FLOWNETS, upsample_bias=False),
    "FlowNet2C": nvidia(CP_FLOWNETC, upsample_bias=True),
}


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    built = {arch: build_flownet(arch).eval() for arch in ARCHS}
    for model in built.values():  # non-trivial BatchNorm statistics
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_(0, 0.1)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 2.0)
            elif name.endswith("num_batches_tracked"):
                buf.fill_(7)
    return built


def frames(h, w, n=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (h, w, 3) if n is None else (n, h, w, 3)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def states_equal(a, b):
    return list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)


# -- layouts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", list(ARCHS))
def test_state_dict_inventory(models, arch):
    state = models[arch].state_dict()
    assert [(k, tuple(v.shape)) for k, v in state.items()] == EXPECTED[arch]
    assert (len(state), sum(v.numel() for v in state.values())) == COUNTS[arch]
    for key, value in state.items():
        want = torch.int64 if key.endswith("num_batches_tracked") else torch.float32
        assert value.dtype == want, key


def test_default_constructors_have_no_batchnorm():
    assert FlowNetS().arch == "flownets" and FlowNetC().arch == "flownetc"
    assert build_flownet("flownet2-c").arch == "FlowNet2C"
    with pytest.raises(ValueError, match="unknown FlowNet arch"):
        build_flownet("flownet2sd")


@pytest.mark.parametrize("arch", list(ARCHS))
def test_infer_arch_from_keys(models, arch):
    assert infer_arch(models[arch].state_dict()) == arch


@pytest.mark.parametrize("arch", ["flownets", "flownetc_bn", "FlowNet2S"])
def test_train_mode_returns_five_scales(models, arch):
    model = models[arch]
    x = torch.randn(1, 6, 61, 83)
    model.train()
    try:
        with torch.no_grad():
            outs = model(x)
    finally:
        model.eval()
    sizes = [tuple(o.shape[-2:]) for o in outs]
    assert sizes == [(16, 21), (8, 11), (4, 6), (2, 3), (1, 2)]


# -- correlation -----------------------------------------------------------------------------

def naive_correlation(f1, f2, d=20, s=2):
    """Bounds-checked, per-displacement reference: mean over channels, zero outside f2."""
    b, c, h, w = f1.shape
    n = 2 * (d // s) + 1
    out = torch.zeros(b, n * n, h, w, dtype=f1.dtype)
    for i in range(n):
        dy = (i - n // 2) * s
        for j in range(n):
            dx = (j - n // 2) * s
            y0, y1 = max(0, -dy), min(h, h - dy)
            x0, x1 = max(0, -dx), min(w, w - dx)
            if y0 < y1 and x0 < x1:
                out[:, i * n + j, y0:y1, x0:x1] = (
                    f1[:, :, y0:y1, x0:x1] * f2[:, :, y0 + dy:y1 + dy, x0 + dx:x1 + dx]).mean(1)
    return out


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_correlation_matches_naive(dtype):
    g = torch.Generator().manual_seed(1)
    f1 = torch.randn(2, 7, 24, 27, generator=g, dtype=dtype)
    f2 = torch.randn(2, 7, 24, 27, generator=g, dtype=dtype)
    got = correlate(f1, f2)
    assert got.shape == (2, 441, 24, 27)
    assert torch.allclose(got, naive_correlation(f1, f2), atol=1e-5, rtol=0)
    for chunk in (5000, 2**30):  # the GPU path's chunking: same numbers
        assert torch.allclose(correlate(f1, f2, chunk_elements=chunk), got, atol=1e-6, rtol=0)
    for d, s in ((5, 2), (3, 1)):  # other displacements / strides than FlowNetC's
        assert torch.allclose(correlate(f1, f2, d, s, chunk_elements=2**30),
                              naive_correlation(f1, f2, d, s), atol=1e-5, rtol=0)
    # a few entries by the definition, scalar by scalar
    for bi, i, j, y, x in [(0, 10, 10, 5, 6), (1, 12, 7, 3, 20), (0, 0, 20, 23, 0),
                           (1, 20, 0, 0, 26), (0, 3, 17, 20, 2)]:
        yy, xx = y + 2 * (i - 10), x + 2 * (j - 10)
        inside = 0 <= yy < 24 and 0 <= xx < 27
        want = float((f1[bi, :, y, x] * f2[bi, :, yy, xx]).sum() / 7) if inside else 0.0
        assert abs(float(got[bi, i * 21 + j, y, x]) - want) < 1e-5


def test_correlation_channel_is_vertical_major():
    f1 = torch.randn(1, 16, 30, 30, dtype=torch.float64)
    f2 = torch.roll(f1, shifts=(4, -6), dims=(2, 3))  # f2[y + 4, x - 6] = f1[y, x]
    corr = correlate(f1, f2)[0, :, 10:20, 10:20].mean(dim=(1, 2))
    i, j = divmod(int(corr.argmax()), 21)
    assert (i, j) == (10 + 2, 10 - 3)


def test_correlation_layer_is_leaky():
    f1 = torch.randn(1, 4, 8, 8)
    f2 = -f1
    raw = correlate(f1, f2)
    assert torch.allclose(correlation_layer(f1, f2), F.leaky_relu(raw, 0.1))
    assert raw[0, 220].max() < 0  # zero shift: -|f1|² / C


# -- checkpoints -----------------------------------------------------------------------------

@pytest.mark.parametrize("arch", list(ARCHS))
def test_round_trip_zip(models, tmp_path, arch):
    path = tmp_path / f"{arch}.pth.tar"
    save_flownet(models[arch], path)
    raw = torch.load(path, weights_only=True)
    if models[arch].layout == "clementpinard":
        assert set(raw) == {"epoch", "arch", "state_dict", "best_EPE", "div_flow"}
        assert raw["arch"] == arch and raw["div_flow"] == 20
    else:
        assert set(raw) == {"epoch", "state_dict", "best_EPE"}
    loaded = load_flownet(path)
    assert loaded.arch == arch and not loaded.training and loaded.div_flow == 20
    assert states_equal(loaded.state_dict(), models[arch].state_dict())


@pytest.mark.parametrize("arch", ["flownets", "flownetc_bn", "FlowNet2C"])
def test_round_trip_legacy(models, tmp_path, arch):
    path = tmp_path / f"{arch}.pth.tar"
    save_flownet(models[arch], path, legacy=True)
    with open(path, "rb") as fh:
        assert fh.read(2) != b"PK"  # not a zip archive
    assert states_equal(load_flownet(path).state_dict(), models[arch].state_dict())


def test_module_prefix_and_no_arch(models, tmp_path):
    state = models["flownetc"].state_dict()
    path = tmp_path / "dp.pth"
    torch.save({"epoch": 3, "state_dict": OrderedDict(("module." + k, v) for k, v in
                                                      state.items())}, path)
    loaded = load_flownet(path)
    assert loaded.arch == "flownetc" and states_equal(loaded.state_dict(), state)


def test_bare_state_dict(models, tmp_path):
    path = tmp_path / "bare.pth"
    torch.save(models["FlowNet2S"].state_dict(), path)
    assert load_flownet(path).arch == "FlowNet2S"


def test_missing_num_batches_tracked_and_numpy_scalar(models, tmp_path):
    ref = models["flownets_bn"].state_dict()
    state = OrderedDict((k, v) for k, v in ref.items() if not k.endswith("num_batches_tracked"))
    path = tmp_path / "old_bn.pth.tar"
    torch.save({"epoch": 10, "arch": "flownets_bn", "state_dict": state,
                "best_EPE": np.float64(2.459), "div_flow": 20}, path,
               _use_new_zipfile_serialization=False)
    # as numpy 1.x (2018) pickles it: numpy.core, not numpy._core
    path.write_bytes(path.read_bytes().replace(b"numpy._core.multiarray\nscalar",
                                               b"numpy.core.multiarray\nscalar"))
    loaded = load_flownet(path).state_dict()
    for k, v in loaded.items():
        assert torch.equal(v, torch.zeros_like(v) if k.endswith("num_batches_tracked") else ref[k])


def test_div_flow_honoured(models, tmp_path):
    model = build_flownet("flownets", div_flow=10)
    model.load_state_dict(models["flownets"].state_dict())
    path = tmp_path / "div10.pth.tar"
    save_flownet(model, path)
    loaded = load_flownet(path)
    assert loaded.div_flow == 10
    f1, f2 = frames(40, 56, seed=1), frames(40, 56, seed=2)
    np.testing.assert_allclose(estimate_flow(loaded, f1, f2),
                               0.5 * estimate_flow(models["flownets"], f1, f2), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("legacy", [False, True])
def test_truncated_file(models, tmp_path, legacy):
    path = tmp_path / "cut.pth.tar"
    save_flownet(models["flownets"], path, legacy=legacy)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FlowNetCheckpointError, match="cut.pth.tar.*truncated or corrupt"):
        load_flownet(path)


def test_garbage_and_missing_file(tmp_path):
    path = tmp_path / "junk.pth"
    path.write_bytes(b"this is not a checkpoint" * 10)
    with pytest.raises(FlowNetCheckpointError, match="junk.pth"):
        load_flownet(path)
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        load_flownet(tmp_path / "nope.pth")


def save_state(path, state, **meta):
    torch.save({"epoch": 0, **meta, "state_dict": state}, path)
    return path


def test_missing_and_unexpected_keys(models, tmp_path):
    state = OrderedDict(models["flownets"].state_dict())
    del state["predict_flow3.weight"]
    state["extra.weight"] = torch.zeros(3)
    path = save_state(tmp_path / "partial.pth", state, arch="flownets")
    with pytest.raises(FlowNetCheckpointError) as err:
        load_flownet(path)
    msg = str(err.value)
    assert "partial.pth" in msg and "flownets" in msg
    assert "missing keys (1): predict_flow3.weight" in msg
    assert "unexpected keys (1): extra.weight" in msg


def test_missing_key_without_arch(models, tmp_path):
    state = OrderedDict(models["FlowNet2C"].state_dict())
    del state["conv5.0.bias"]
    with pytest.raises(FlowNetCheckpointError, match="missing keys.*conv5.0.bias"):
        load_flownet(save_state(tmp_path / "p.pth", state))


def test_shape_mismatch(models, tmp_path):
    state = OrderedDict(models["flownetc"].state_dict())
    state["conv4.0.weight"] = torch.zeros(512, 256, 5, 5)
    path = save_state(tmp_path / "shape.pth", state, arch="flownetc", div_flow=20)
    with pytest.raises(FlowNetCheckpointError,
                       match=r"shape.pth.*shape mismatch \(1\): conv4.0.weight \(512, 256, 5, 5\)"):
        load_flownet(path)


def test_arch_entry_contradicts_keys(models, tmp_path):
    path = save_state(tmp_path / "bn.pth", models["flownets_bn"].state_dict(), arch="flownets")
    with pytest.raises(FlowNetCheckpointError, match="keys look like flownets_bn.*missing keys"):
        load_flownet(path)


def test_unsupported_or_foreign(models, tmp_path):
    cases = {
        "arch.pth": ({"arch": "FlowNet2CSS"}, models["flownets"].state_dict(),
                     "unsupported arch 'FlowNet2CSS'"),
        "stacked.pth": ({}, {"flownetc.conv1.0.weight": torch.zeros(64, 3, 7, 7)}, "stacked"),
        "sd.pth": ({}, {"conv0.0.weight": torch.zeros(64, 6, 3, 3)}, "FlowNet2-SD"),
        "foreign.pth": ({}, {"fc.weight": torch.zeros(2, 2)}, "no 'conv1.0.weight'"),
        "div.pth": ({"div_flow": -1}, models["flownets"].state_dict(), "div_flow -1.0"),
    }
    for name, (meta, state, message) in cases.items():
        with pytest.raises(FlowNetCheckpointError, match=f"{name}.*{message}"):
            load_flownet(save_state(tmp_path / name, state, **meta))
    path = tmp_path / "list.pth"
    torch.save([1, 2], path)
    with pytest.raises(FlowNetCheckpointError, match="list.pth.*expected a dict"):
        load_flownet(path)


def test_non_finite_weights(models, tmp_path):
    state = OrderedDict(models["flownets"].state_dict())
    state["conv2.0.bias"] = state["conv2.0.bias"].clone()
    state["conv2.0.bias"][3] = float("nan")
    with pytest.raises(FlowNetCheckpointError, match="non-finite values.*conv2.0.bias"):
        load_flownet(save_state(tmp_path / "nan.pth", state, arch="flownets"))


def test_save_rejects_wrong_arch(models, tmp_path):
    with pytest.raises(ValueError, match="does not describe"):
        save_flownet(models["flownets"], tmp_path / "x.pth", "flownetc")


# -- inference -------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ["flownets", "flownetc_bn", "FlowNet2S", "FlowNet2C"])
def test_estimate_flow_odd_size(models, arch):
    flow = estimate_flow(models[arch], frames(61, 83, seed=1), frames(61, 83, seed=2))
    assert flow.shape == (61, 83, 2) and flow.dtype == np.float32
    assert np.isfinite(flow).all() and flow.flags.c_contiguous


def test_clementpinard_preprocessing(models):
    model = models["flownetc"]
    f1, f2 = frames(64, 96, seed=3), frames(64, 96, seed=4)
    mean = torch.tensor([0.411, 0.432, 0.45]).view(3, 1, 1)
    x = torch.cat([torch.from_numpy(f).permute(2, 0, 1).float() / 255 - mean for f in (f1, f2)])
    with torch.no_grad():
        out = model(x[None])
    assert out.shape == (1, 2, 16, 24)
    want = F.interpolate(20 * out, size=(64, 96), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(estimate_flow(model, f1, f2),
                               want[0].permute(1, 2, 0).numpy(), rtol=1e-5, atol=1e-4)


def test_nvidia_preprocessing(models):
    model = models["FlowNet2S"]
    f1, f2 = frames(64, 128, seed=5), frames(64, 128, seed=6)
    inputs = torch.from_numpy(np.stack([f1, f2])).permute(3, 0, 1, 2).float()[None]  # B3 2HW
    rgb_mean = inputs.reshape(1, 3, -1).mean(-1).view(1, 3, 1, 1, 1)
    x = (inputs - rgb_mean) / 255
    with torch.no_grad():
        out = model(torch.cat((x[:, :, 0], x[:, :, 1]), 1))
    want = F.interpolate(out * 20, scale_factor=4, mode="bilinear", align_corners=False)
    np.testing.assert_allclose(estimate_flow(model, f1, f2),
                               want[0].permute(1, 2, 0).numpy(), rtol=1e-5, atol=1e-4)


def test_batch_matches_single(models):
    model = models["FlowNet2C"]
    a, b = frames(45, 70, n=3, seed=7), frames(45, 70, n=3, seed=8)
    batch = estimate_flow_batch(model, a, b, device="cpu", batch_size=2)
    assert batch.shape == (3, 45, 70, 2) and batch.dtype == np.float32
    for k in range(3):
        np.testing.assert_allclose(batch[k], estimate_flow(model, a[k], b[k]),
                                   rtol=1e-4, atol=1e-4)


def test_inference_keeps_mode_and_checks_frames(models):
    model = models["flownets"]
    model.train()
    try:
        estimate_flow(model, frames(32, 32), frames(32, 32))
        assert model.training
    finally:
        model.eval()
    with pytest.raises(ValueError, match="uint8"):
        estimate_flow(model, frames(32, 32).astype(np.float32), frames(32, 32))
    with pytest.raises(ValueError, match="differ in shape"):
        estimate_flow(model, frames(32, 32), frames(32, 40))


def test_backend_registry(models, tmp_path):
    path = tmp_path / "flownets.pth.tar"
    save_flownet(models["flownets"], path)
    run = make_backend("flownets", weights=str(path), device="cpu")
    flow = run(frames(50, 66, seed=1), frames(50, 66, seed=2))
    assert flow.shape == (50, 66, 2) and flow.dtype == np.float32
    assert flownet_backend(path, "cpu").model.arch == "flownets"
    with pytest.raises(ValueError, match="'flownetc' but .* holds flownets"):
        make_backend("flownetc", weights=str(path), device="cpu")


def test_backends_module_does_not_import_torch():
    code = ("import sys, wilddeblur.flow.backends as b; "
            "assert {'flownets', 'flownetc'} <= set(b.BACKENDS); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
