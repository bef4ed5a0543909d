"""The ``wilddeblur`` command: every stage has a subcommand with a useful --help."""

import subprocess
import sys

import pytest

STAGES = ["demo", "probe", "flow", "select", "average", "manifest", "verify",
          "inspect", "train", "evaluate", "report", "deblur", "baseline", "kernels", "si-test",
          "evaluate-external", "train-flow", "export", "export-onnx"]


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


def test_a_missing_file_given_by_hand_is_one_line(tmp_path):
    res = subprocess.run([sys.executable, "-m", "wilddeblur", "verify",
                          str(tmp_path / "manifest.csv")], capture_output=True, text=True)
    assert res.returncode == 1
    missing = tmp_path / "manifest.csv"
    assert res.stderr.strip() == f"wilddeblur verify: error: {missing}: no such file"


def test_a_file_that_is_no_checkpoint_is_one_short_line(tmp_path):
    """torch's own message for a file weights_only cannot read runs over several lines."""
    import numpy as np
    from skimage.io import imsave

    imsave(tmp_path / "photo.png", np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "selection.csv").write_text("video,start\nclip,0\n" * 50)
    res = subprocess.run([sys.executable, "-m", "wilddeblur", "deblur", str(tmp_path / "photo.png"),
                          "-o", str(tmp_path / "out.png"), "--checkpoint",
                          str(tmp_path / "selection.csv")], capture_output=True, text=True)
    assert res.returncode == 1
    [line] = res.stderr.strip().splitlines()
    assert line.startswith(f"wilddeblur deblur: error: {tmp_path / 'selection.csv'}: not a "
                           "loadable checkpoint (")
    assert len(line) < 200 + len(str(tmp_path))


def test_a_pair_setting_is_a_flag_of_two_values():
    from wilddeblur.cli import build_parser
    from wilddeblur.cli.common import settings_from
    from wilddeblur.dataset.average import Averaging

    args = build_parser().parse_args(["average", "sel.csv", "--split", "train", "--shard", "0",
                                      "--probe-dir", "p", "-o", "x.h5", "--saturation",
                                      "rsblur", "--saturation-range", "0.5", "1.5"])
    averaging = settings_from(args, Averaging)
    assert averaging.saturation == "rsblur" and averaging.saturation_range == (0.5, 1.5)
