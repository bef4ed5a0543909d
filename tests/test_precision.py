"""Training precision: bf16 autocast where the CPU computes bf16 natively, fp32 elsewhere or
with train.amp off; weights, optimizer state and the loss stay fp32 (the capability probe is
forced both ways, whatever this machine has)."""

import pytest
import torch

import wilddeblur.engine.device as device_module
from tests.test_train import settings, shards  # noqa: F401  (the fixture)
from wilddeblur.engine.device import autocast_bf16, cpu_bf16_instructions
from wilddeblur.training.loop import train


def conv_output_dtypes(run) -> set[torch.dtype]:
    """The dtypes of every convolution's output while ``run()`` trains."""
    seen = set()

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            seen.add(output.dtype)

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        run()
    finally:
        handle.remove()
    return seen


def force_cpu_bf16(monkeypatch, native: list[str]) -> None:
    monkeypatch.setattr(device_module, "cpu_bf16_instructions", lambda: native)


@pytest.mark.parametrize("native, amp, want, why", [
    (["avx512_bf16"], True, torch.bfloat16, "natively (avx512_bf16)"),
    ([], True, torch.float32, "no native bf16"),
    (["amx_bf16"], False, torch.float32, "train.amp is off"),
])
def test_training_step_runs_in_the_precision_the_cpu_supports(shards, tmp_path, monkeypatch,  # noqa: F811
                                                               capsys, native, amp, want, why):
    force_cpu_bf16(monkeypatch, native)
    s = settings(steps=2, amp=amp)
    used = conv_output_dtypes(lambda: train(shards, tmp_path, s, "h"))
    assert used == {want}
    assert why in capsys.readouterr().out
    model = torch.load(tmp_path / "model.pt", weights_only=True)["model"]
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    moments = [v for state in last["optimizer"]["state"].values() for k, v in state.items()
               if k in ("exp_avg", "exp_avg_sq")]
    floats = [v for v in [*model.values(), *moments] if v.is_floating_point()]
    assert moments and floats
    assert {v.dtype for v in floats} == {torch.float32}


def test_native_bf16_is_read_from_the_cpu_capabilities(monkeypatch):
    monkeypatch.setattr(device_module, "onednn_bf16", lambda: True)
    monkeypatch.setattr(device_module.torch.cpu, "get_capabilities",
                        lambda: {"avx512_bf16": False, "amx_bf16": True, "avx2": True})
    assert cpu_bf16_instructions() == ["amx_bf16"]
    assert autocast_bf16(torch.device("cpu"), True)[0]
    monkeypatch.setattr(device_module.torch.cpu, "get_capabilities",
                        lambda: {"avx512_bf16": False, "avx512_f": True, "avx2": True})
    assert cpu_bf16_instructions() == []
    assert not autocast_bf16(torch.device("cpu"), True)[0]
