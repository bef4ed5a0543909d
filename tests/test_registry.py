"""Adding a network is one ``*_arch.py``-like class and one registry entry: a toy network,
registered here alone, trains one step through the workflow's training stage, and its
checkpoint, run names, loss and command-line flags all come from that entry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from tests.conftest import ArrayFrames
from wilddeblur.cli import main
from wilddeblur.dataset.shards import manifest, shard_path, write_shard
from wilddeblur.models import registry
from wilddeblur.models.registry import Arch, Param, load_model
from wilddeblur.training.losses import LOSSES, loss_function
from wilddeblur.training.stages import train_stage


class ToyNet(nn.Module):
    """The whole of a toy ``toy_arch.py``: a residual 3×3 convolution of ``width`` channels."""

    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self.hparams = {"width": int(width)}
        self.body = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, 3, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


TOY = Arch("toy", "Toy", ToyNet, {"width": Param("toy.width", "--toy-width", 4)}, loss="mse")


@pytest.fixture
def toy():
    registry.register(TOY)
    yield TOY
    registry.unregister("toy")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds")
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (1, 24, 28, 3), dtype=np.uint8)
    frames = np.concatenate([np.roll(base, k, axis=2) for k in range(30)])
    rows = pd.DataFrame({"video": "v", "start": [0, 8, 16], "ne": 7, "center": [3, 11, 19],
                         "flow_mean": 1.0, "flow_p95": 1.0, "flow_p99": 1.0, "flow_max": 1.0,
                         "flow_region": 1.0, "match_err_local": 0.02, "match_err": 0.0,
                         "blur_size": 6.0, "index": [0, 1, 2]})
    paths = [shard_path(root, split, 0) for split in ("train", "test")]
    for path in paths:
        write_shard(path, rows, {"v": ArrayFrames(frames)}, "h")
    man = root / "manifest.csv"
    manifest(paths, root).to_csv(man, index=False)
    return man


TRAIN = {"steps": 1, "batch_size": 2, "crop": 16, "workers": 0, "device": "cpu",
         "checkpoint_every": 1, "log_every": 1}


def test_a_registered_toy_network_trains_through_the_workflow_stage(toy, dataset, tmp_path):
    assert registry.arch_of("ToyWILD") == ("toy", "WILD")
    assert registry.run_names(["toy"]) == ["ToyWILD", "ToySI"]
    assert loss_function("auto", "toy") is LOSSES["mse"][0]
    out = train_stage(dataset, tmp_path / "ToyWILD", "ToyWILD", TRAIN,
                      {"toy": {"width": 6}}, history=tmp_path / "history.csv")
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["arch"] == "toy" and ckpt["arch_params"] == {"width": 6} and ckpt["step"] == 1
    model = load_model(out)
    assert isinstance(model, ToyNet) and model.hparams == {"width": 6}
    start = ToyNet(6)
    assert any(not torch.equal(a, b) for a, b in zip(
        model.state_dict().values(), start.state_dict().values(), strict=True))
    assert pd.read_csv(tmp_path / "history.csv")["step"].tolist() == [1]


def test_the_toy_network_has_its_command_line_flags(toy, dataset, tmp_path):
    main(["train", "--manifest", str(dataset), "--out-dir", str(tmp_path / "cli"),
          "--arch", "toy", "--toy-width", "5", "--steps", "1", "--batch-size", "2",
          "--crop", "16", "--workers", "0", "--device", "cpu", "--val-split", ""])
    assert isinstance(net := load_model(tmp_path / "cli" / "model.pt"), ToyNet)
    assert net.hparams == {"width": 5}


def test_an_unregistered_name_is_refused_in_one_line():
    with pytest.raises(ValueError, match="not a network name"):
        registry.arch_of("ToyWILD")
    with pytest.raises(registry.ConfigError, match="model.arch: unknown network 'toy'"):
        registry.run_names(["toy"])
