"""Official NAFNet/BasicSR checkpoints wherever a checkpoint is taken: evaluation, the starting
point of training (``train.init_from``), and export of the project's NAFNet to that format.
Expected outputs come from the independent reference of tests/test_nafnet.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from skimage.io import imsave

from tests.test_learning import panned_pairs
from tests.test_nafnet import (
    as_input,
    official_file,
    official_shapes,
    photo,
    random_state,
    reference,
)
from wilddeblur.cli import main
from wilddeblur.engine import loop as engine_loop
from wilddeblur.errors import CheckpointError
from wilddeblur.evaluation.metrics import psnr
from wilddeblur.models.deblurnet_arch import DeblurNet
from wilddeblur.models.nafnet_arch import NAFNet
from wilddeblur.models.registry import ModelSpec, load_model
from wilddeblur.training import loop
from wilddeblur.training.settings import TrainSettings

SHAPE = (8, [1, 1], 1, [1, 1])
SPEC = ModelSpec("nafnet", {"width": 8, "enc_blocks": [1, 1], "middle_blocks": 1,
                            "dec_blocks": [1, 1]})


def reference_uint8(state, image: np.ndarray) -> np.ndarray:
    out = reference(state, SHAPE, as_input(image))[0].permute(1, 2, 0).numpy()
    return np.floor(np.clip(out.astype(np.float64), 0, 1) * 255 + 0.5).astype(np.uint8)


def test_evaluate_external_scores_an_official_checkpoint(tmp_path):
    state = official_file(tmp_path / "official.pth", SHAPE, seed=5)
    blurry, sharp = photo(37, 53), photo(37, 53)[:, ::-1].copy()
    for folder, image in (("input", blurry), ("target", sharp)):
        (tmp_path / "set/test" / folder).mkdir(parents=True)
        imsave(tmp_path / "set/test" / folder / "a.png", image, check_contrast=False)
    main(["evaluate-external", "--paired-root", str(tmp_path / "set"), "--set", "x",
          "--method", "NAFNet-official", "--checkpoint", str(tmp_path / "official.pth"),
          "--device", "cpu", "-o", str(tmp_path / "x.csv")])
    scored = pd.read_csv(tmp_path / "x.csv")["psnr"].iloc[0]
    assert scored == pytest.approx(psnr(reference_uint8(state, blurry), sharp), abs=0.01)
    assert abs(scored - psnr(blurry, sharp)) > 0.1


def first_step_outputs(monkeypatch) -> list:
    """(input, output) of the network just before each optimiser step."""
    seen = []
    original = engine_loop.optimizer_step

    def spy(job, net, recipe, blurry, sharp, device, *args):
        with torch.no_grad():
            x, _ = job.prepare(blurry, sharp, device)
            seen.append((x.clone(), net(x).clone()))
        return original(job, net, recipe, blurry, sharp, device, *args)

    monkeypatch.setattr(engine_loop, "optimizer_step", spy)
    return seen


def settings(steps: int, init_from) -> TrainSettings:
    return TrainSettings(steps=steps, batch_size=2, crop=32, workers=0, device="cpu",
                         loss="l1", checkpoint_every=steps, init_from=str(init_from), seed=0)


def test_fine_tuning_starts_from_an_official_checkpoint_unless_resuming(tmp_path, monkeypatch):
    state = official_file(tmp_path / "official.pth", SHAPE, seed=6)
    shards = panned_pairs(tmp_path)
    seen = first_step_outputs(monkeypatch)
    loop.train(shards, tmp_path / "run", settings(2, tmp_path / "official.pth"), "h",
               model_spec=SPEC)
    x, y = seen[0]
    torch.testing.assert_close(y.double(), reference(state, SHAPE, x), rtol=0, atol=2e-5)

    resumed_from = load_model(tmp_path / "run/last.pt")  # the weights after 2 steps
    seen.clear()
    loop.train(shards, tmp_path / "run", settings(3, tmp_path / "official.pth"), "h",
               model_spec=SPEC)
    x, y = seen[0]
    torch.testing.assert_close(y, resumed_from(x), rtol=0, atol=1e-6)
    assert (y.double() - reference(state, SHAPE, x)).abs().max() > 1e-4


def test_init_from_another_architecture_fails_clearly(tmp_path):
    official_file(tmp_path / "w16.pth", (16, [1, 1], 1, [1, 1]))
    net = DeblurNet(width=0.25)
    torch.save({"arch": "deblurnet", "arch_params": net.hparams, "model": net.state_dict()},
               tmp_path / "deblurnet.pt")
    for path, held in (("w16.pth", "'width': 16"), ("deblurnet.pt", "DeblurNet")):
        with pytest.raises(CheckpointError) as err:
            loop.train([], tmp_path / "run", settings(1, tmp_path / path), "h", model_spec=SPEC)
        message = str(err.value)
        assert str(tmp_path / path) in message and held in message and "'width': 8" in message


def test_export_checkpoint_round_trip(tmp_path):
    """A project NAFNet checkpoint → official file: only {'params': ...} with the authors' key
    names and shapes; it loads back to the same outputs."""
    state = random_state(SHAPE, seed=7)
    net = NAFNet(width=8, enc_blocks=[1, 1], middle_blocks=1, dec_blocks=[1, 1])
    net.load_state_dict(state)
    torch.save({"arch": "nafnet", "arch_params": net.hparams, "model": net.state_dict(),
                "step": 5}, tmp_path / "model.pt")
    main(["export-checkpoint", str(tmp_path / "model.pt"), str(tmp_path / "out.pth")])
    saved = torch.load(tmp_path / "out.pth", weights_only=True)
    assert list(saved) == ["params"]
    assert {k: tuple(v.shape) for k, v in saved["params"].items()} == official_shapes(*SHAPE)
    x = as_input(photo(37, 53))
    exported = load_model(tmp_path / "out.pth")
    torch.testing.assert_close(exported(x), load_model(tmp_path / "model.pt")(x), rtol=0, atol=0)
    torch.testing.assert_close(exported(x).double(), reference(state, SHAPE, x), rtol=0,
                               atol=2e-5)


def test_export_checkpoint_refuses_a_deblurnet(tmp_path):
    net = DeblurNet(width=0.25)
    torch.save({"arch": "deblurnet", "arch_params": net.hparams, "model": net.state_dict()},
               tmp_path / "model.pt")
    with pytest.raises(SystemExit) as ended:
        main(["export-checkpoint", str(tmp_path / "model.pt"), str(tmp_path / "out.pth")])
    message = str(ended.value.code)
    assert "\n" not in message and str(tmp_path / "model.pt") in message and "DeblurNet" in message
    assert not (tmp_path / "out.pth").exists()
