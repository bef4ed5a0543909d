"""benchmarks/gpu_check.py in its --smoke mode (tiny sizes on the CPU): every check runs and
its row is in the one table, so the script is ready for the first GPU at hand."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_gpu_check_smoke_mode_runs_every_check():
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--smoke"],
                         cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    rows = [line.strip("| ").split(" | ") for line in res.stdout.splitlines()
            if line.startswith("| ")][2:]
    results = {(check.split(" width")[0].split(",")[0], setting): result
               for check, setting, result in rows}
    for net in ("DeblurNet", "NAFNet"):
        for mode in ("fp32", "tf32", "bf16 + channels-last"):
            assert results[(f"train {net}", mode)].endswith("images/s"), (net, mode)
        for mode in ("fp32", "bf16"):
            assert results[(f"inference {net}", mode)].endswith(" ms"), (net, mode)
    for arch in ("FlowNetS", "FlowNetC"):
        for mode in ("fp32", "bf16"):
            assert results[(f"{arch} flow", mode)].endswith("pairs/s"), (arch, mode)
    assert results[("torchrun", "2 steps")].startswith("ok")
    assert results[("torchrun", "resumed at 2, to 4")].startswith("ok")
    assert results[("train()", "4 steps, resumed to 6")].startswith("ok")
    assert len(rows) == 17
