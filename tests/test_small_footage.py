"""Footage with small frames (issue 31): the workflow adapts its size-dependent settings after
probe, or stops there in one line, before any decoding; no stage ends in a traceback."""

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import workflow_copy
from tests.test_workflow import run
from wilddeblur.video.demo import render_clip

SMALL = """\
seed: 0
videos: [{videos}/*.mp4]
split: {{test_videos: [test-*]}}
dataset: {{samples_per_shard: 4}}
model:
  arch: [deblurnet, nafnet]
  width: 0.25
  nafnet: {{width: 8, enc_blocks: [1, 1], middle_blocks: 1, dec_blocks: [1, 1]}}
train:
  nafnet: {{steps: 10, batch_size: 2}}
  steps: 20
  batch_size: 2
  checkpoint_every: 10
  workers: 0
si: {{kernels: 100, test_images: 3}}
baselines:
  sun2015: {{stride: 12}}
  sun2015_train: {{steps: 20, batch_size: 16, width: 0.125, val_patches: 100}}
evaluate: {{max_images: 3}}
"""  # tests/config/tiny.yaml's small steps, the size-dependent settings at config.yaml's


def no_traceback(wd: Path, res: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in res.stdout + res.stderr, (res.stdout + res.stderr)[-3000:]
    for log in (wd / "logs").rglob("*.log"):
        assert "Traceback" not in log.read_text(errors="replace"), log


def test_frames_too_small_stop_the_run_after_probe(tmp_path):
    """A 180x180 test video (60x60 after x3) leaves SI test images of 20 px, under Sun's 30 px
    patches: one line naming the key and the video, and no video is decoded."""
    wd = workflow_copy(tmp_path)
    videos = wd / "videos"
    videos.mkdir()
    for name, size in (("cam-a", "320x240"), ("test-a", "180x180")):
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                        f"testsrc2=size={size}:rate=240:duration=0.2", "-pix_fmt", "yuv420p",
                        str(videos / f"{name}.mp4")], check=True)
    cfg = wd / "small.yaml"
    cfg.write_text(SMALL.format(videos="videos"))
    res = run(wd, "--configfile", str(cfg))
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "Error in rule sizes" in out
    assert ("error: si: test-a's frames are 60x60 after the x3 downsampling (downsample.factor); "
            "the SI test set blurs them 'valid' with 41x41 kernels") in out
    assert not (wd / "results/flow").exists()  # nothing decoded
    no_traceback(wd, res)
    again = run(wd, "--configfile", str(cfg))  # the probes are there: refused at the start
    assert again.returncode != 0 and "Error in rule" not in again.stdout + again.stderr
    assert again.stderr.strip().splitlines()[-1].startswith("error: si: test-a's frames are")
    no_traceback(wd, again)


def render(folder: Path, width: int, height: int) -> None:
    """Two training clips and a test clip of the demo's scenes at ``width`` x ``height``."""
    folder.mkdir()
    for scene, name in (("demo-train-a", "cam-a"), ("demo-train-b", "cam-b"),
                        ("demo-test-a", "test-a")):
        render_clip(scene, folder / f"{name}.mp4", width=width, height=height, fps=240,
                    seconds=1.0, seed=0)


@pytest.mark.slow
@pytest.mark.parametrize("width,height,notes", [
    (320, 240, ["train.crop 96 -> 80 for DeblurNetWILD", "train.crop 96 -> 40 for DeblurNetSI",
                "baselines.xu_jia.kernel_size 25 -> 19 on the SI test set"]),
    (512, 384, ["train.crop 96 -> 88 for DeblurNetSI"]),  # 171x128: 128 - 40 px of margin
])
def test_a_whole_run_on_small_footage_ends_in_a_report(tmp_path, width, height, notes):
    """Issue 31: 512x384 footage died in train_si, 320x240 footage in the Xu & Jia baseline on
    the SI set, each with a traceback. Now the settings adapt, saying so on the console."""
    wd = workflow_copy(tmp_path)
    render(wd / "videos", width, height)
    cfg = wd / "small.yaml"
    cfg.write_text(SMALL.format(videos="videos"))
    res = run(wd, "--configfile", str(cfg), timeout=1800)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    for note in notes:
        assert note in out, note
    table = pd.read_csv(wd / "results/report/psnr.csv")
    assert set(table["split"]) == {"test", "test-3", "si-test"}
    assert table["psnr"].between(5, 60).all()
    report = (wd / "results/report/report.md").read_text()
    assert f"Adapted to the frame sizes (checked after probe): {notes[0]}" in report
    no_traceback(wd, res)
