"""Training: exact resume, NaN stop, checkpoints loadable with weights_only=True."""

import csv

import numpy as np
import pandas as pd
import pytest
import torch

import wilddeblur.training.loop as train_module
from tests.conftest import ArrayFrames
from wilddeblur.dataset.shards import shard_path, write_shard
from wilddeblur.engine.loop import NonFiniteLossError
from wilddeblur.models.registry import ModelSpec, load_model
from wilddeblur.training.data import ShardBatches
from wilddeblur.training.loop import train
from wilddeblur.training.settings import TrainSettings


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds")
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (1, 24, 28, 3), dtype=np.uint8)
    frames = np.concatenate([np.roll(base, k, axis=2) for k in range(30)])  # a slow pan
    store = ArrayFrames(frames)
    rows = pd.DataFrame({"video": "v", "start": [0, 8, 16], "ne": 7, "center": [3, 11, 19],
                         "flow_mean": 1.0, "flow_p95": 1.0, "flow_p99": 1.0, "flow_max": 1.0,
                         "flow_region": 1.0, "match_err_local": 0.02,
                         "match_err": 0.0, "blur_size": 6.0, "index": [0, 1, 2]})
    path = shard_path(root, "train", 0)
    write_shard(path, rows, {"v": store}, "h")
    return [path]


def settings(**kw) -> TrainSettings:
    base = dict(steps=6, batch_size=2, crop=16, checkpoint_every=2, log_every=1, workers=0,
                device="cpu", seed=3)
    return TrainSettings(**{**base, **kw})


def losses(log) -> list[tuple[int, str]]:
    with open(log) as fh:
        return [(int(r["step"]), r["loss"]) for r in csv.DictReader(fh)]


def test_batches_depend_only_on_seed_and_step(shards):
    a = ShardBatches(shards, 2, 16, seed=1, steps=10)
    b = ShardBatches(shards, 2, 16, seed=1, steps=10)
    for step in (0, 7):
        torch.testing.assert_close(a[step], b[step])
    assert a[0][0].shape == (2, 3, 16, 16) and a[0][0].dtype == torch.float32
    assert not torch.equal(a[0][0], a[1][0])


def test_crop_must_suit_the_network(shards):
    with pytest.raises(ValueError, match="multiple of 4"):
        ShardBatches(shards, 2, 18, seed=0, steps=1)
    with pytest.raises(ValueError, match="smaller than train.crop"):
        ShardBatches(shards, 2, 64, seed=0, steps=1)


def interrupted_at(step: int, loss):
    """``loss``, except that its call number ``step`` raises KeyboardInterrupt (a Ctrl-C)."""
    calls = {"n": 0}

    def wrapped(outputs, sharp):
        calls["n"] += 1
        if calls["n"] == step:
            raise KeyboardInterrupt
        return loss(outputs, sharp)

    return wrapped


def test_interrupted_and_resumed_run_equals_an_uninterrupted_one(shards, tmp_path, monkeypatch):
    straight = train(shards, tmp_path / "a", settings(), "h")

    real_loss = train_module.loss_function("eq1", "deblurnet")
    monkeypatch.setattr(train_module, "loss_function",
                        lambda name, arch: interrupted_at(5, real_loss))
    with pytest.raises(KeyboardInterrupt):
        train(shards, tmp_path / "b", settings(), "h")
    assert torch.load(tmp_path / "b" / "last.pt", weights_only=True)["step"] == 4
    monkeypatch.setattr(train_module, "loss_function", lambda name, arch: real_loss)
    resumed = train(shards, tmp_path / "b", settings(), "h")

    assert losses(tmp_path / "a" / "log.csv") == losses(tmp_path / "b" / "log.csv")
    a = torch.load(straight, weights_only=True)["model"]
    b = torch.load(resumed, weights_only=True)["model"]
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_checkpoint_holds_everything_to_resume(shards, tmp_path):
    train(shards, tmp_path, settings(steps=2), "h")
    ckpt = torch.load(tmp_path / "last.pt", weights_only=True)
    assert {"model", "optimizer", "scheduler", "step", "rng", "settings",
            "settings_hash"} <= set(ckpt)
    assert ckpt["settings"]["lr"] == 1e-3 and ckpt["settings"]["lr_decay"] == 0.75
    assert load_model(tmp_path / "model.pt").training is False


def paper_lr(step: int, every: int = 10_000) -> float:
    """§3: lr 1e-3, multiplied by 0.75 every 10⁴ iterations; ``step`` counts from 1."""
    return 1e-3 * 0.75 ** ((step - 1) // every)


SMALL_NAFNET = ModelSpec("nafnet", {"width": 8, "enc_blocks": [1, 1], "middle_blocks": 1,
                                     "dec_blocks": [1, 1]})


def test_nafnet_interrupted_and_resumed_equals_uninterrupted(shards, tmp_path, monkeypatch):
    """The same for NAFNet with its own recipe's parts: the PSNR loss, AdamW with weight decay
    and the cosine schedule (whose position must come back from the checkpoint too)."""
    s = settings(steps=6, loss="psnr", optimizer="adamw", weight_decay=1e-3, schedule="cosine",
                 beta2=0.9)
    straight = train(shards, tmp_path / "a", s, "h", model_spec=SMALL_NAFNET)
    real_loss = train_module.loss_function("psnr", "nafnet")
    monkeypatch.setattr(train_module, "loss_function",
                        lambda name, arch: interrupted_at(5, real_loss))
    with pytest.raises(KeyboardInterrupt):
        train(shards, tmp_path / "b", s, "h", model_spec=SMALL_NAFNET)
    monkeypatch.setattr(train_module, "loss_function", lambda name, arch: real_loss)
    resumed = train(shards, tmp_path / "b", s, "h", model_spec=SMALL_NAFNET)
    rows = [list(csv.DictReader(open(tmp_path / run / "log.csv"))) for run in ("a", "b")]
    assert [(r["step"], r["loss"], r["lr"]) for r in rows[0]] == [
        (r["step"], r["loss"], r["lr"]) for r in rows[1]]
    assert float(rows[0][-1]["lr"]) < 0.2 * float(rows[0][0]["lr"])  # annealed by the cosine
    a = torch.load(straight, weights_only=True)
    b = torch.load(resumed, weights_only=True)
    assert a["arch"] == b["arch"] == "nafnet" and a["arch_params"] == SMALL_NAFNET.params
    for key in a["model"]:
        torch.testing.assert_close(a["model"][key], b["model"][key], rtol=0, atol=0)


def test_logged_lr_is_the_rate_each_step_used(shards, tmp_path):
    train(shards, tmp_path, settings(steps=5, lr_step=2), "h")
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5]
    assert [float(r["lr"]) for r in rows] == pytest.approx(
        [paper_lr(k, every=2) for k in range(1, 6)])


def test_default_schedule_is_the_papers():
    model, opt, sched = train_module.build(TrainSettings(device="cpu"), ModelSpec(),
                                           torch.device("cpu"))
    used = {}
    for step in range(1, 30_002):
        used[step] = opt.param_groups[0]["lr"]
        opt.step()
        sched.step()
    for step in (1, 10_000, 10_001, 20_000, 20_001, 30_001):
        assert used[step] == pytest.approx(paper_lr(step)), step


def test_checkpoint_from_other_settings_is_moved_aside_not_lost(shards, tmp_path):
    train(shards, tmp_path, settings(steps=2), "old")
    train(shards, tmp_path, settings(steps=2), "new")
    assert (tmp_path / "last.old.pt").exists()
    assert torch.load(tmp_path / "last.pt", weights_only=True)["settings_hash"] == "new"


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint(
        shards, tmp_path, monkeypatch):
    real_loss, calls = train_module.loss_function("eq1", "deblurnet"), {"n": 0}

    def nan_at_step_3(outputs, sharp):
        calls["n"] += 1
        loss = real_loss(outputs, sharp)
        return loss * float("nan") if calls["n"] == 3 else loss

    monkeypatch.setattr(train_module, "loss_function", lambda name, arch: nan_at_step_3)
    with pytest.raises(NonFiniteLossError, match="nan at step 3.*last.pt"):
        train(shards, tmp_path, settings(checkpoint_every=1), "h")
    assert torch.load(tmp_path / "last.pt", weights_only=True)["step"] == 2
    assert not (tmp_path / "model.pt").exists()


def test_corrupt_checkpoint_is_named(tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="model.pt: not a loadable checkpoint"):
        load_model(bad)


def test_validation_psnr_is_logged_every_n_steps(shards, tmp_path):
    train(shards, tmp_path, settings(steps=4, val_every=2, val_images=2), "h",
          val_shards=shards)
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    vals = {int(r["step"]): r["val_psnr"] for r in rows}
    assert vals[1] == "" and vals[3] == ""
    assert 5 < float(vals[2]) < 60 and 5 < float(vals[4]) < 60


def test_tensorboard_option_names_the_key_when_unavailable(shards, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name == "torch.utils.tensorboard":
            raise ImportError("no tensorboard")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(RuntimeError, match="train.tensorboard"):
        train(shards, tmp_path, settings(steps=1, tensorboard=True), "h")


def one_process_reference(shards, s: TrainSettings, world: int = 2) -> dict:
    """What ``world`` data-parallel processes must compute, in one process and written out here:
    the same seed and global batches; each process's share (samples ``rank::world``) is run
    through the network on its own, as DDP does, so batch normalisation takes its statistics
    from that share (train.py: BN statistics stay per process); the gradient is the mean over
    the shares (DDP's all-reduce); one Adam step. BN running statistics are those of rank 0,
    which writes the checkpoint."""
    from wilddeblur.models.deblurnet_arch import DeblurNet
    from wilddeblur.training.losses import multiscale_loss

    torch.manual_seed(s.seed)
    net = DeblurNet().train()
    opt = torch.optim.Adam(net.parameters(), lr=s.lr, betas=(s.beta1, s.beta2))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=s.lr_step, gamma=s.lr_decay)
    batches = ShardBatches(shards, s.batch_size, s.crop, s.seed, s.steps)
    for step in range(s.steps):
        blurry, sharp = batches[step]
        opt.zero_grad()
        total, rank0_buffers = 0, None
        for rank in range(world):
            total = total + multiscale_loss(net(blurry[rank::world]), sharp[rank::world])
            if rank == 0:
                rank0_buffers = {k: v.clone() for k, v in net.named_buffers()}
        (total / world).backward()
        with torch.no_grad():
            for k, v in net.named_buffers():
                v.copy_(rank0_buffers[k])
        opt.step()
        sched.step()
    return net.state_dict()


def test_data_parallel_training_equals_one_process_with_the_same_global_batch(shards, tmp_path):
    """torchrun, 2 CPU processes (gloo), global batch 4: after 4 steps the weights are those of
    one process computing the same 4-sample batches, to 1e-4 of the change the training made
    (measured: identical). Unsynchronised gradients (each process training on its own half)
    miss by half the change. Both sides run single-threaded: other thread counts change float
    summation order, which BN on 2-sample shares and Adam's first steps amplify to ~3 %."""
    import os
    import shutil
    import subprocess
    import sys

    from wilddeblur.dataset.shards import manifest as make_manifest
    from wilddeblur.models.deblurnet_arch import DeblurNet

    root = shards[0].parents[1]
    man = tmp_path / "manifest.csv"
    make_manifest(shards, root).to_csv(man, index=False)
    shutil.copytree(root / "train", tmp_path / "train")
    s = settings(steps=4, batch_size=4, crop=16, lr_step=2)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc-per-node", "2", "-m", "wilddeblur", "train"]
    res = subprocess.run([*torchrun, "--manifest", str(man), "--out-dir", str(tmp_path / "ddp"),
                          "--steps", "4", "--batch-size", "4", "--crop", "16", "--lr-step", "2",
                          "--seed", str(s.seed), "--workers", "0", "--log-every", "1",
                          "--device", "cpu", "--val-split", "", "--no-amp"],
                         capture_output=True, text=True, timeout=900,  # a hang guard only
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    assert [step for step, _ in losses(tmp_path / "ddp" / "log.csv")] == [1, 2, 3, 4]
    ddp = torch.load(tmp_path / "ddp" / "model.pt", weights_only=True)
    assert ddp["step"] == 4

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as torchrun gives each process (OMP_NUM_THREADS=1)
    try:
        want = one_process_reference(shards, s)
    finally:
        torch.set_num_threads(threads)
    torch.manual_seed(s.seed)
    start = DeblurNet().state_dict()
    assert set(ddp["model"]) == set(want)
    for key, value in want.items():
        if not value.is_floating_point():
            assert torch.equal(ddp["model"][key], value), key
    moved = torch.cat([(want[k] - start[k]).flatten() for k in want
                       if want[k].is_floating_point()]).norm()
    off = torch.cat([(ddp["model"][k] - want[k]).flatten() for k in want
                     if want[k].is_floating_point()]).norm()
    assert moved > 0.1
    assert off < 1e-4 * moved, (off, moved)


def test_batch_shares_of_two_processes_make_up_the_single_process_batch(shards):
    whole = ShardBatches(shards, 4, 16, seed=1, steps=5)[3]
    even = ShardBatches(shards, 4, 16, seed=1, steps=5, rank=0, world=2)[3]
    odd = ShardBatches(shards, 4, 16, seed=1, steps=5, rank=1, world=2)[3]
    torch.testing.assert_close(whole[0][0::2], even[0])
    torch.testing.assert_close(whole[1][1::2], odd[1])
