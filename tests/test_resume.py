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


def wilddeblur(*args) -> list[str]:
    return [sys.executable, "-m", "wilddeblur", *map(str, args)]


# Runs `wilddeblur ARGS` with one function of the package wrapped so that, at a chosen point,
# the process touches MARKER and sleeps: it is then killed there, whatever the machine's load.
# "calls": before call number AFTER + 1; "items": before yielding item number AFTER + 1 of the
# iterator the function returns.
PAUSER = """
import importlib, pathlib, sys, time
module_name, attr, mode, after, marker, *args = sys.argv[1:]
module = importlib.import_module(module_name)
real, after, calls = getattr(module, attr), int(after), [0]

def pause():
    pathlib.Path(marker).touch()
    time.sleep(3600)

def wrapped(*a, **k):
    calls[0] += 1
    if mode == "calls":
        if calls[0] > after:
            pause()
        return real(*a, **k)
    return items(real(*a, **k))

def items(iterator):
    for n, item in enumerate(iterator):
        if n == after:
            pause()
        yield item

setattr(module, attr, wrapped)
from wilddeblur.cli import main
main(args)
"""


def kill_at_pause(target: str, mode: str, after: int, args: list, tmp_path) -> None:
    """Run the stage until it pauses at ``target`` (module.function), then SIGKILL it: no
    clean-up code runs, as after a power cut."""
    marker = tmp_path / "paused"
    module, attr = target.rsplit(".", 1)
    proc = subprocess.Popen([sys.executable, "-c", PAUSER, module, attr, mode, str(after),
                             str(marker), *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 300
        while not marker.exists():
            if proc.poll() is not None:
                raise AssertionError(f"the stage ended before its pause point: "
                                     f"{proc.stderr.read().decode()[-2000:]}")
            assert time.time() < deadline, "the stage did not reach its pause point in 300 s"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def same_arrays(a, b, names) -> None:
    with h5py.File(a) as fa, h5py.File(b) as fb:
        for name in names:
            np.testing.assert_array_equal(fa[name][()], fb[name][()])


def test_killed_flow_pass_leaves_no_table_and_a_rerun_is_complete(tiny_clip, tmp_path):
    subprocess.run(wilddeblur("probe", tiny_clip, "-o", tmp_path / "p.json"), check=True)
    out = tmp_path / "flow.csv"
    args = ["flow", tmp_path / "p.json", "-o", out]
    # killed after two chunks of 32 decoded frames went through the flow
    kill_at_pause("wilddeblur.video.downsample.prefetch", "items", 2, args, tmp_path)
    assert not out.exists() and not list(tmp_path.glob("flow.csv*"))

    subprocess.run(wilddeblur(*args), check=True, capture_output=True)
    reference = tmp_path / "reference.csv"
    subprocess.run(wilddeblur("flow", tmp_path / "p.json", "-o", reference), check=True,
                   capture_output=True)
    assert len(pd.read_csv(out)) == 239
    # DIS is not bit-reproducible between runs (OpenCV's threads): equal to float32 precision
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(reference), rtol=1e-4)


def test_killed_shard_writing_leaves_no_shard_and_a_rerun_is_identical(tiny_clip, tmp_path):
    probes = tmp_path / "probe"
    probes.mkdir()
    subprocess.run(wilddeblur("probe", tiny_clip, "-o", probes / "v.json"), check=True)
    starts = np.arange(0, 120, 12)
    sel = pd.DataFrame({"video": "v", "start": starts, "ne": 11, "center": starts + 5,
                        "kept": True, "reason": "", "flow_mean": 0.1, "flow_p95": 0.2,
                        "flow_p99": 0.3, "flow_max": 0.4, "match_err": 0.01, "blur_size": 1.0,
                        "flow_region": 0.4, "match_err_local": 0.02,
                        "split": "train", "shard": 0, "index": np.arange(len(starts)),
                        "size": "128x72"})
    sel.to_csv(tmp_path / "selection.csv", index=False)
    out = tmp_path / "train" / "shard-00000.h5"

    def args(dest):
        return ["average", tmp_path / "selection.csv", "--split", "train", "--shard", 0,
                "--probe-dir", probes, "-o", dest]

    # killed while averaging sample 5 of 10: four are in the shard's temp file
    kill_at_pause("wilddeblur.dataset.shards.blurry_sharp_pair", "calls", 4, args(out), tmp_path)
    assert not out.exists()
    assert out.with_name(out.name + ".tmp").stat().st_size > 0  # it was killed mid-way
    subprocess.run(wilddeblur(*args(out)), check=True, capture_output=True)
    subprocess.run(wilddeblur(*args(tmp_path / "reference.h5")), check=True, capture_output=True)
    same_arrays(out, tmp_path / "reference.h5", ["blurry", "sharp", "start", "ne"])
