"""What the workflow's scripts share (wilddeblur.snakejob): the job's log, settings from the
config sections, torchrun for several GPUs."""

import subprocess
import sys
from types import SimpleNamespace

import pytest

from wilddeblur import snakejob
from wilddeblur.dataset.select import SelectionSettings


def test_settings_from_sections_and_extra():
    s = snakejob.settings(SelectionSettings, {"threshold": 0.5, "stride": None}, seed=3)
    assert (s.threshold, s.stride, s.seed, s.ne_min) == (0.5, None, 3, 7)


def test_settings_refuse_a_key_that_is_no_field():
    with pytest.raises(ValueError, match="no field \\['treshold'\\]"):
        snakejob.settings(SelectionSettings, {"treshold": 0.5})


def test_log_to_catches_python_and_subprocess_output(tmp_path):
    log = tmp_path / "logs" / "job.log"
    code = ("import subprocess, sys\n"
            "from types import SimpleNamespace\n"
            "from wilddeblur.snakejob import log_to\n"
            f"log_to(SimpleNamespace(log=[{str(log)!r}]))\n"
            "print('from python')\n"
            "subprocess.run(['sh', '-c', 'echo from a subprocess >&2'])\n"
            "raise ValueError('the error names the file')\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode != 0 and res.stdout == res.stderr == ""
    text = log.read_text()
    assert "from python" in text and "from a subprocess" in text
    assert "ValueError: the error names the file" in text


def test_torchrun_only_for_several_gpus(monkeypatch):
    calls = []
    monkeypatch.setattr(snakejob.subprocess, "run", lambda cmd, check: calls.append(cmd))
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    job = SimpleNamespace()
    assert snakejob.relaunch_under_torchrun(job, 1) is False and calls == []
    assert snakejob.relaunch_under_torchrun(job, 2) is True
    assert calls[0][1:6] == ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                             "2"]
    monkeypatch.setenv("LOCAL_RANK", "0")  # inside torchrun: train
    assert snakejob.relaunch_under_torchrun(job, 2) is False and len(calls) == 1


@pytest.mark.parametrize("raise_,expected", [
    ("raise VideoError('/x/empty.mp4: the file is empty (0 bytes)')",
     "error: /x/empty.mp4: the file is empty (0 bytes)\n"),
    ("raise CheckpointError('/x/model.pt: not a loadable checkpoint')",
     "error: /x/model.pt: not a loadable checkpoint\n"),
])
def test_an_expected_error_ends_a_job_in_one_line(tmp_path, raise_, expected):
    log = tmp_path / "job.log"
    code = ("from types import SimpleNamespace\n"
            "from wilddeblur.errors import CheckpointError, VideoError\n"
            "from wilddeblur.snakejob import log_to\n"
            f"log_to(SimpleNamespace(log=[{str(log)!r}]))\n{raise_}\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 1
    assert log.read_text() == expected
