"""ONNX export (`wilddeblur export-onnx`) and ONNX Runtime inference wherever a checkpoint is
taken. Expected outputs are PyTorch eager's (NAFNet's is pinned to an independent reference by
tests/test_nafnet.py); the ONNX file must agree within one 8-bit level at odd sizes its trace did
not see. NAFNets come as official BasicSR .pth files, so their conversion is exported too."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pandas as pd
import pytest
import torch
from skimage.io import imread, imsave

from tests.test_deblur import clip, decode  # noqa: F401 (clip: a fixture)
from tests.test_nafnet import as_input, official_file, photo
from wilddeblur.cli import main
from wilddeblur.deploy.onnx_runtime import OnnxNetwork
from wilddeblur.engine.checkpoint import save_atomic
from wilddeblur.models.deblurnet_arch import DeblurNet
from wilddeblur.models.registry import load_model

DEMO_NAFNET = (16, [1, 1, 1, 4], 1, [1, 1, 1, 1])  # config.yaml's model.nafnet
PUBLISHED_NAFNET = (32, [1, 1, 1, 28], 1, [1, 1, 1, 1])  # NAFNet-GoPro-width32's shape
SIZES = [(45, 67), (77, 101)]  # (H, W), odd, neither a multiple of 4 or 16


def to8(y: torch.Tensor) -> np.ndarray:
    return np.rint(np.clip(y[0].permute(1, 2, 0).numpy(), 0, 1) * 255).astype(np.int16)


def random_deblurnet(width: float) -> DeblurNet:
    """A DeblurNet whose every weight and BatchNorm statistic is random, fixed by its seed."""
    torch.manual_seed(0)
    net = DeblurNet(width)
    for m in (net.n1.out, net.n2.out, net.n3.out):
        torch.nn.init.normal_(m.weight, std=0.02)
        torch.nn.init.normal_(m.bias, std=0.1)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2)
    return net.eval()


@pytest.fixture(scope="module")
def networks(tmp_path_factory) -> dict:
    """name -> (exported .onnx, its checkpoint, the PyTorch network, ONNX Runtime's)."""
    folder = tmp_path_factory.mktemp("onnx")
    save_atomic({"model": random_deblurnet(0.125).state_dict(), "arch": "deblurnet",
                 "arch_params": {"width": 0.125}}, folder / "DeblurNet.pt")
    checkpoints = {"DeblurNet": folder / "DeblurNet.pt"}
    for name, shape, seed in (("NAFNet", DEMO_NAFNET, 1), ("NAFNet32", PUBLISHED_NAFNET, 2)):
        official_file(folder / f"{name}.pth", shape, seed)  # official BasicSR format
        checkpoints[name] = folder / f"{name}.pth"
    out = {}
    for name, ckpt in checkpoints.items():
        main(["export-onnx", str(ckpt), str(folder / f"{name}.onnx")])
        out[name] = (folder / f"{name}.onnx", ckpt, load_model(ckpt),
                     OnnxNetwork(folder / f"{name}.onnx", "cpu"))
    return out


@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("name", ["DeblurNet", "NAFNet", "NAFNet32"])
def test_onnx_runtime_equals_pytorch_within_one_level(networks, name, size):
    _, _, net, exported = networks[name]
    x = as_input(photo(*size))
    with torch.no_grad():
        want = to8(net.deblur(x))
    got = exported.deblur(x)
    assert got.shape == x.shape
    assert np.abs(to8(got) - want).max() <= 1
    assert np.abs(want - to8(x)).mean() > 1  # the network really changes the image


@pytest.mark.parametrize("name", ["DeblurNet", "NAFNet"])
def test_the_file_is_valid_with_dynamic_size_and_stated_opset(networks, name):
    model = onnx.load(str(networks[name][0]))
    onnx.checker.check_model(model, full_check=True)
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [17]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 3, "height", "width"]
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["wilddeblur.arch"] == name and meta["wilddeblur.output"] == "full scale"


def deblur(*args) -> None:
    main(["deblur", *map(str, args), "--device", "cpu"])


def test_deblur_cli_on_a_photo_tiled_and_whole(tmp_path, networks):
    onnx_file, ckpt, net, _ = networks["DeblurNet"]
    img = photo(45, 67)
    imsave(tmp_path / "photo.png", img)
    deblur(tmp_path / "photo.png", "-o", tmp_path / "whole.png", "--checkpoint", onnx_file,
           "--tile", "0")
    with torch.no_grad():
        want = to8(net.deblur(as_input(img)))
    assert np.abs(imread(tmp_path / "whole.png").astype(np.int16) - want).max() <= 1
    for checkpoint, out in ((onnx_file, "onnx.png"), (ckpt, "torch.png")):  # 3×4 tiles
        deblur(tmp_path / "photo.png", "-o", tmp_path / out, "--checkpoint", checkpoint,
               "--tile", "24")
    tiled = imread(tmp_path / "onnx.png").astype(np.int16)
    assert np.abs(tiled - imread(tmp_path / "torch.png")).max() <= 1


def test_deblur_cli_on_a_video(tmp_path, networks, clip):  # noqa: F811
    src, frames = clip
    onnx_file, ckpt, _, _ = networks["NAFNet"]
    for checkpoint, out in ((onnx_file, "onnx.mp4"), (ckpt, "torch.mp4")):
        deblur(src, "-o", tmp_path / out, "--checkpoint", checkpoint)
    got, want = decode(tmp_path / "onnx.mp4", 48, 32), decode(tmp_path / "torch.mp4", 48, 32)
    assert got.shape == frames.shape
    assert np.abs(got.astype(int) - want).mean() < 0.5  # H.264 of frames within a level
    assert np.abs(got.astype(int) - frames).mean() > 2  # and the network changed them


def test_evaluate_external_with_an_onnx_file(tmp_path, networks):
    blurry, sharp = photo(37, 53), photo(37, 53)[:, ::-1].copy()
    for folder, image in (("input", blurry), ("target", sharp)):
        (tmp_path / "set/test" / folder).mkdir(parents=True)
        imsave(tmp_path / "set/test" / folder / "a.png", image, check_contrast=False)
    scores = []
    for checkpoint in networks["NAFNet"][:2]:
        main(["evaluate-external", "--paired-root", str(tmp_path / "set"), "--set", "x",
              "--method", "m", "--checkpoint", str(checkpoint), "--device", "cpu",
              "-o", str(tmp_path / "x.csv")])
        scores.append(pd.read_csv(tmp_path / "x.csv")["psnr"].iloc[0])
    assert scores[0] == pytest.approx(scores[1], abs=0.05)


def test_an_existing_file_is_kept_without_force(tmp_path, networks):
    out = tmp_path / "model.onnx"
    out.write_bytes(b"keep")
    with pytest.raises(SystemExit, match="model.onnx: exists; pass --force"):
        main(["export-onnx", str(networks["NAFNet"][1]), str(out)])
    assert out.read_bytes() == b"keep"


def test_a_graph_that_disagrees_with_pytorch_is_not_written(tmp_path, networks, monkeypatch):
    from wilddeblur.deploy import onnx_export

    monkeypatch.setattr(onnx_export, "TOLERANCE", -1.0)  # any difference is too much
    with pytest.raises(SystemExit, match=r"differs from PyTorch's by .* at 17×51; .*not written"):
        main(["export-onnx", str(networks["NAFNet"][1]), str(tmp_path / "o.onnx")])
    assert list(tmp_path.iterdir()) == []


def test_a_graph_traced_without_its_padding_is_not_written(tmp_path, networks, monkeypatch):
    """DeblurNet traced at a multiple of 4 leaves out the padding: refused at the odd size."""
    from wilddeblur.deploy import onnx_export

    monkeypatch.setattr(onnx_export, "trace_sizes", lambda m: ((2 * m, 3 * m), [(3 * m + 3, m)]))
    with pytest.raises(SystemExit, match=r"cannot be computed by ONNX Runtime.* at 4×15; "):
        main(["export-onnx", str(networks["DeblurNet"][1]), str(tmp_path / "o.onnx")])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("ckpt", "named"), [
    ({"model": {}, "classes": [[1.0, 0.0]], "width": 0.25}, "the Sun et al. (2015) patch"),
    ({"model": {}, "arch": "flownets"}, "holds a FlowNet (flownets)"),
])
def test_networks_that_are_not_exported_are_named_in_one_line(tmp_path, ckpt, named):
    torch.save(ckpt, tmp_path / "other.pt")
    with pytest.raises(SystemExit) as err:
        main(["export-onnx", str(tmp_path / "other.pt"), str(tmp_path / "o.onnx")])
    assert named in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "o.onnx").exists()


def test_an_onnx_file_that_is_not_an_image_network_is_named(tmp_path):
    x = onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 7])
    y = onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n", 7])
    graph = onnx.helper.make_graph([onnx.helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    onnx.save(onnx.helper.make_model(graph), str(tmp_path / "relu.onnx"))
    imsave(tmp_path / "p.png", photo(8, 8))
    with pytest.raises(SystemExit, match=r"relu.onnx: takes x \['n', 7\], not one N×3×H×W"):
        deblur(tmp_path / "p.png", "-o", tmp_path / "o.png", "--checkpoint",
               tmp_path / "relu.onnx")
    assert not (tmp_path / "o.png").exists()


BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "{module}":
            raise ImportError(name)
sys.meta_path.insert(0, Block())
from wilddeblur.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize(("module", "command"), [
    ("onnxruntime", ["deblur", "{dir}/p.png", "-o", "{dir}/o.png", "--checkpoint", "{onnx}"]),
    ("onnx", ["export-onnx", "{ckpt}", "{dir}/o.onnx"]),
])
def test_a_missing_extra_says_which_pip_install(tmp_path, networks, module, command):
    onnx_file, ckpt, _, _ = networks["NAFNet"]
    imsave(tmp_path / "p.png", photo(8, 8))
    args = [a.format(dir=tmp_path, onnx=onnx_file, ckpt=ckpt) for a in command]
    res = subprocess.run([sys.executable, "-c", BLOCK.replace("{module}", module), *args],
                         capture_output=True, text=True)
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert f"needs the {module} package" in res.stderr
    assert 'pip install -e ".[deploy]"' in res.stderr


def test_the_workflow_target_exports_each_trained_network(tmp_path):
    from tests.conftest import planned_jobs, workflow_copy
    from tests.test_workflow import run

    res = run(workflow_copy(tmp_path), "export_onnx", "-n", "--quiet", "rules")
    assert res.returncode == 0, res.stderr[-2000:]
    jobs = planned_jobs(res.stdout + res.stderr)
    assert (jobs["onnx_model"], jobs["train"], jobs["train_si"]) == (4, 2, 2)
    assert "report" not in jobs  # opt-in: the target needs only the trained networks
