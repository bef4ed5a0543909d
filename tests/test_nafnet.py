"""NAFNet against the published architecture (megvii-research/NAFNet, basicsr/models/archs/
NAFNet_arch.py and arch_util.LayerNorm2d), and checkpoints in the official BasicSR format.

The reference here is written from the authors' code, independently of the package: state
dicts with the authors' key names and shapes, and a functional forward pass over them. Every
parameter is random, beta and gamma included (both start at zero, which would hide the blocks).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage import data as skdata
from skimage.io import imread, imsave

from wilddeblur.cli import main
from wilddeblur.errors import CheckpointError
from wilddeblur.models.deblurnet_arch import DeblurNet
from wilddeblur.models.nafnet_arch import NAFNet
from wilddeblur.models.nafnet_checkpoint import infer_hparams
from wilddeblur.models.registry import load_model

# (width, enc_blocks, middle_blocks, dec_blocks): stage counts 2, 4 and 3, empty stages too
SHAPES = [(8, [1, 2], 1, [1, 1]), (16, [0, 1, 1, 2], 1, [1, 0, 1, 1]), (4, [2, 1, 1], 0, [1, 2, 1])]
SIZES = [(37, 53), (16, 24), (9, 70)]


def block_shapes(prefix: str, c: int) -> dict[str, tuple[int, ...]]:
    """One official NAFBlock on ``c`` channels (DW_Expand = FFN_Expand = 2)."""
    shapes = {"conv1.weight": (2 * c, c, 1, 1), "conv1.bias": (2 * c,),
              "conv2.weight": (2 * c, 1, 3, 3), "conv2.bias": (2 * c,),
              "conv3.weight": (c, c, 1, 1), "conv3.bias": (c,),
              "sca.1.weight": (c, c, 1, 1), "sca.1.bias": (c,),
              "conv4.weight": (2 * c, c, 1, 1), "conv4.bias": (2 * c,),
              "conv5.weight": (c, c, 1, 1), "conv5.bias": (c,),
              "norm1.weight": (c,), "norm1.bias": (c,), "norm2.weight": (c,), "norm2.bias": (c,),
              "beta": (1, c, 1, 1), "gamma": (1, c, 1, 1)}
    return {f"{prefix}.{k}": v for k, v in shapes.items()}


def official_shapes(width, enc, middle, dec) -> dict[str, tuple[int, ...]]:
    """Key → shape of the authors' NAFNet(img_channel=3, width, middle_blk_num, enc_blk_nums,
    dec_blk_nums).state_dict()."""
    shapes = {"intro.weight": (width, 3, 3, 3), "intro.bias": (width,),
              "ending.weight": (3, width, 3, 3), "ending.bias": (3,)}
    c = width
    for i, n in enumerate(enc):
        for j in range(n):
            shapes |= block_shapes(f"encoders.{i}.{j}", c)
        shapes |= {f"downs.{i}.weight": (2 * c, c, 2, 2), f"downs.{i}.bias": (2 * c,)}
        c *= 2
    for j in range(middle):
        shapes |= block_shapes(f"middle_blks.{j}", c)
    for i, n in enumerate(dec):
        shapes[f"ups.{i}.0.weight"] = (2 * c, c, 1, 1)
        c //= 2
        for j in range(n):
            shapes |= block_shapes(f"decoders.{i}.{j}", c)
    return shapes


def random_state(shape, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights for every key: convs ~ N(0, 1/fan_in) (the last one smaller), norms near
    1, beta/gamma ~ ±0.5, biases ~ ±0.1."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, s in official_shapes(*shape).items():
        if key.endswith(("beta", "gamma")):
            t = 0.5 * torch.randn(s, generator=g)
        elif key.rsplit(".", 2)[-2].startswith("norm") and key.endswith("weight"):
            t = 1 + 0.2 * torch.randn(s, generator=g)
        elif len(s) == 4:
            t = torch.randn(s, generator=g) / np.sqrt(s[1] * s[2] * s[3])
        else:
            t = 0.1 * torch.randn(s, generator=g)
        state[key] = 0.03 * t if key == "ending.weight" else t  # mostly within [0, 1] out
    return state


def layer_norm(x, w, b):
    mu = x.mean(1, keepdim=True)
    var = (x - mu).pow(2).mean(1, keepdim=True)
    return w.view(1, -1, 1, 1) * (x - mu) / (var + 1e-6).sqrt() + b.view(1, -1, 1, 1)


def ref_block(p, pre, inp):
    """One NAFBlock (the authors' NAFBlock.forward, dropout 0)."""

    def conv(name, x, **kw):
        return F.conv2d(x, p[f"{pre}.{name}.weight"], p[f"{pre}.{name}.bias"], **kw)

    c = inp.shape[1]
    x = conv("conv2", conv("conv1", layer_norm(inp, p[f"{pre}.norm1.weight"],
                                               p[f"{pre}.norm1.bias"])), padding=1, groups=2 * c)
    x = x[:, :c] * x[:, c:]  # SimpleGate
    x = x * conv("sca.1", x.mean((2, 3), keepdim=True))  # simplified channel attention
    y = inp + conv("conv3", x) * p[f"{pre}.beta"]
    x = conv("conv4", layer_norm(y, p[f"{pre}.norm2.weight"], p[f"{pre}.norm2.bias"]))
    return y + conv("conv5", x[:, :c] * x[:, c:]) * p[f"{pre}.gamma"]


def reference(state, shape, inp: torch.Tensor) -> torch.Tensor:
    """The authors' NAFNet.forward, in float64, driven by a state dict."""
    _, enc, middle, dec = shape
    p = {k: v.double() for k, v in state.items()}
    h, w = inp.shape[-2:]
    m = 2 ** len(enc)
    x0 = F.pad(inp.double(), (0, (m - w % m) % m, 0, (m - h % m) % m))  # zeros, bottom/right
    x = F.conv2d(x0, p["intro.weight"], p["intro.bias"], padding=1)
    skips = []
    for i, n in enumerate(enc):
        for j in range(n):
            x = ref_block(p, f"encoders.{i}.{j}", x)
        skips.append(x)
        x = F.conv2d(x, p[f"downs.{i}.weight"], p[f"downs.{i}.bias"], stride=2)
    for j in range(middle):
        x = ref_block(p, f"middle_blks.{j}", x)
    for i, n in enumerate(dec):
        x = F.pixel_shuffle(F.conv2d(x, p[f"ups.{i}.0.weight"]), 2) + skips[-1 - i]
        for j in range(n):
            x = ref_block(p, f"decoders.{i}.{j}", x)
    return (F.conv2d(x, p["ending.weight"], p["ending.bias"], padding=1) + x0)[..., :h, :w]


def photo(h: int, w: int) -> np.ndarray:
    return skdata.astronaut()[150 : 150 + h, 180 : 180 + w]


def as_input(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255


def official_file(path, shape, seed=0, key="params", prefix=""):
    state = random_state(shape, seed)
    torch.save({key: {prefix + k: v for k, v in state.items()}}, path)
    return state


@pytest.mark.parametrize(("shape", "size"), list(zip(SHAPES, SIZES, strict=True)), ids=str)
def test_nafnet_computes_the_published_forward_pass(tmp_path, shape, size):
    state = official_file(tmp_path / "official.pth", shape)
    x = as_input(photo(*size))
    expected = reference(state, shape, x)
    model = load_model(tmp_path / "official.pth")
    assert (expected - x.double()).abs().mean() > 0.05  # the blocks and skips do something
    torch.testing.assert_close(model(x).double(), expected, rtol=0, atol=2e-5)
    torch.testing.assert_close(model.double()(x.double()), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_infer_hparams_reads_the_architecture_off_the_keys(shape):
    width, enc, middle, dec = shape
    assert infer_hparams(random_state(shape), "x.pth") == {
        "width": width, "enc_blocks": enc, "middle_blocks": middle, "dec_blocks": dec}


def test_deblur_cli_on_an_official_checkpoint_gives_the_published_image(tmp_path):
    """`wilddeblur deblur --checkpoint official.pth` at its default tile size: the written PNG is
    the reference's 8-bit output within one level."""
    shape = SHAPES[0]
    state = official_file(tmp_path / "official.pth", shape, seed=3)
    image = photo(37, 53)
    imsave(tmp_path / "in.png", image, check_contrast=False)
    main(["deblur", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.png"),
          "--checkpoint", str(tmp_path / "official.pth"), "--device", "cpu"])
    expected = reference(state, shape, as_input(image))[0].permute(1, 2, 0).numpy()
    expected = np.rint(np.clip(expected, 0, 1) * 255).astype(int)
    assert np.abs(expected - photo(37, 53).astype(int)).mean() > 5
    assert np.abs(imread(tmp_path / "out.png").astype(int) - expected).max() <= 1


@pytest.mark.parametrize(("key", "prefix"), [("params_ema", ""), ("params", "module.")])
def test_ema_only_and_data_parallel_files_load(tmp_path, key, prefix):
    shape = SHAPES[1]
    state = official_file(tmp_path / "w.pth", shape, seed=1, key=key, prefix=prefix)
    x = as_input(photo(16, 24))
    torch.testing.assert_close(load_model(tmp_path / "w.pth")(x).double(),
                               reference(state, shape, x), rtol=0, atol=2e-5)


def altered(state, what: str) -> dict:
    state = dict(state)
    if what == "missing":
        del state["encoders.1.0.conv3.bias"]
    elif what == "extra":
        state["ending.scale"] = torch.ones(3)
    else:
        state["middle_blks.0.conv2.weight"] = torch.zeros(64, 1, 5, 5)
    return state


@pytest.mark.parametrize(("what", "named"), [
    ("missing", "encoders.1.0.conv3.bias"), ("extra", "ending.scale"),
    ("shape", "middle_blks.0.conv2.weight")])
def test_a_file_that_does_not_fit_fails_in_one_line(tmp_path, what, named):
    path = tmp_path / f"{what}.pth"
    torch.save({"params": altered(random_state(SHAPES[0]), what)}, path)
    with pytest.raises(CheckpointError) as err:
        load_model(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and named in message, message
    with pytest.raises(SystemExit) as ended:
        main(["deblur", str(path), "-o", str(tmp_path / "o.png"), "--checkpoint", str(path)])
    assert "\n" not in str(ended.value.code) and named in str(ended.value.code)


def test_project_and_old_deblurnet_checkpoints_still_load(tmp_path):
    torch.manual_seed(0)
    net = DeblurNet(width=0.25)
    for m in (net.n1.out, net.n2.out, net.n3.out):
        torch.nn.init.normal_(m.weight, std=0.1)
    x = as_input(photo(36, 52))
    expected = net.eval().deblur(x)
    torch.save({"arch": "deblurnet", "arch_params": {"width": 0.25},
                "model": net.state_dict()}, tmp_path / "model.pt")
    torch.save({"arch": "DeblurNet", "width": 0.25, "model": net.state_dict()},
               tmp_path / "old.pt")
    for name in ("model.pt", "old.pt"):
        loaded = load_model(tmp_path / name)
        assert isinstance(loaded, DeblurNet) and loaded.hparams == {"width": 0.25}
        torch.testing.assert_close(loaded.deblur(x), expected, rtol=0, atol=0)


def test_project_nafnet_is_not_read_as_official(tmp_path):
    """A project NAFNet checkpoint keeps its recorded architecture."""
    net = NAFNet(width=4, enc_blocks=[1], middle_blocks=1, dec_blocks=[2])
    torch.save({"arch": "nafnet", "arch_params": net.hparams, "model": net.state_dict()},
               tmp_path / "model.pt")
    assert load_model(tmp_path / "model.pt").hparams == net.hparams
