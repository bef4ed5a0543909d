"""The ``wilddeblur`` command: every stage has a subcommand with a useful --help."""

import subprocess
import sys

import pytest

STAGES = ["demo", "probe", "flow", "select", "average", "manifest", "verify",
          "inspect", "train", "evaluate", "report", "deblur", "baseline", "kernels", "si-test",
          "evaluate-external", "train-flow"]


@pytest.mark.parametrize("stage", STAGES)
def test_help(stage):
    out = subprocess.run([sys.executable, "-m", "wilddeblur", stage, "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert f"usage: wilddeblur {stage}" in out
    assert len(out.splitlines()) > 3


def test_errors_are_one_clear_line(tmp_path):
    res = subprocess.run([sys.executable, "-m", "wilddeblur", "probe", str(tmp_path / "x.mp4"),
                          "-o", str(tmp_path / "x.json")], capture_output=True, text=True)
    assert res.returncode != 0
    assert res.stderr.strip() == f"wilddeblur probe: error: {tmp_path / 'x.mp4'}: no such file"


def test_expected_errors_are_one_line_and_others_keep_their_traceback(monkeypatch, capsys):
    from wilddeblur import cli
    from wilddeblur.errors import ConfigError

    def fail(error):
        def run(args):
            raise error
        return run

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["probe"].set_defaults(
        func=fail(ConfigError("-o out.png names a file")))
    with pytest.raises(SystemExit) as err:
        cli.main(["probe", "x.mp4", "-o", "x.json"])
    assert err.value.code == "wilddeblur probe: error: -o out.png names a file"
    parser._subparsers._group_actions[0].choices["probe"].set_defaults(
        func=fail(KeyError("psnr")))
    with pytest.raises(KeyError):  # a bug: its traceback is shown
        cli.main(["probe", "x.mp4", "-o", "x.json"])
