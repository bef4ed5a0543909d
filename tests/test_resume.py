"""Killing a long stage mid-way (decoding, shard writing) leaves no output that could pass for a
complete one, and running it again gives exactly what an uninterrupted run gives.
(Training's resume is tested in test_train.py and, through Snakemake, in test_workflow.py.)"""

import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pandas as pd
import pytest

from tests.conftest import make_store


def wilddeblur(*args) -> list[str]:
    return [sys.executable, "-m", "wilddeblur", *map(str, args)]


def kill_when_started(cmd: list[str], tmp_file) -> None:
    """Start ``cmd``; SIGKILL it (no clean-up possible) once its temp file has data."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (tmp_file.exists() and tmp_file.stat().st_size > 1_000_000):
        assert proc.poll() is None, "the stage finished before it could be interrupted"
        assert time.time() < deadline
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def same_arrays(a, b, names) -> None:
    with h5py.File(a) as fa, h5py.File(b) as fb:
        for name in names:
            np.testing.assert_array_equal(fa[name][()], fb[name][()])


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """5 s of 1280×720 at 240 fps: long enough to be killed while decoding."""
    clip = tmp_path_factory.mktemp("long") / "long.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=1280x720:rate=240:duration=5", "-c:v", "libx264", "-preset",
                    "ultrafast", "-pix_fmt", "yuv420p", str(clip)], check=True)
    return clip


def test_killed_decoding_leaves_no_store_and_a_rerun_is_identical(long_clip, tmp_path):
    subprocess.run(wilddeblur("probe", long_clip, "-o", tmp_path / "p.json"), check=True)
    out = tmp_path / "frames.h5"
    cmd = wilddeblur("downsample", tmp_path / "p.json", "-o", out,
                     "--flow-output", tmp_path / "flow.csv")
    kill_when_started(cmd, tmp_path / "frames.h5.tmp")
    assert not out.exists() and not (tmp_path / "flow.csv").exists()

    subprocess.run(cmd, check=True, capture_output=True)
    reference = tmp_path / "reference.h5"
    subprocess.run(wilddeblur("downsample", tmp_path / "p.json", "-o", reference), check=True,
                   capture_output=True)
    same_arrays(out, reference, ["frames"])
    assert len(pd.read_csv(tmp_path / "flow.csv")) == 1199


def test_killed_shard_writing_leaves_no_shard_and_a_rerun_is_identical(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (260, 240, 427, 3), dtype=np.uint8)
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    make_store(frames_dir / "v.h5", frames)
    starts = np.arange(0, 240, 12)
    sel = pd.DataFrame({"video": "v", "start": starts, "ne": 11, "center": starts + 5,
                        "kept": True, "reason": "", "flow_mean": 0.1, "flow_p95": 0.2,
                        "flow_p99": 0.3, "flow_max": 0.4, "match_err": 0.01, "blur_size": 1.0,
                        "flow_region": 0.4, "match_err_local": 0.02,
                        "split": "train", "shard": 0, "index": np.arange(len(starts)),
                        "size": "427x240"})
    sel.to_csv(tmp_path / "selection.csv", index=False)
    out = tmp_path / "train" / "shard-00000.h5"

    def cmd(dest):
        return wilddeblur("average", tmp_path / "selection.csv", "--split", "train", "--shard",
                          0, "--frames-dir", frames_dir, "-o", dest)

    kill_when_started(cmd(out), out.with_name(out.name + ".tmp"))
    assert not out.exists()
    subprocess.run(cmd(out), check=True, capture_output=True)
    subprocess.run(cmd(tmp_path / "reference.h5"), check=True, capture_output=True)
    same_arrays(out, tmp_path / "reference.h5", ["blurry", "sharp", "start", "ne"])
