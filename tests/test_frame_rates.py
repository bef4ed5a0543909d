"""Frame rates said where they are seen (issue 31): a phone's slow-motion capture rate read from
the container and used, a low rate said in one line by `wilddeblur probe`, on the console of a
workflow run and at the top of report.md, naming fps_override."""

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from skimage.io import imsave

from tests.conftest import workflow_copy
from tests.test_workflow import run
from wilddeblur.errors import ConfigError
from wilddeblur.report.stages import ReportInputs, TrainedRun, build_report
from wilddeblur.video.probe import probe


def clip(path, rate: int = 30, *metadata: str):
    """A 12-frame 64×48 test pattern at ``rate`` fps, with ``metadata`` (key=value) written as
    MP4 metadata tags."""
    tags = [a for m in metadata for a in ("-metadata", m)]
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    f"testsrc2=size=64x48:rate={rate}", "-frames:v", "12", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", *tags, "-movflags", "use_metadata_tags", str(path)],
                   check=True)
    return path


@pytest.fixture(scope="module")
def android(tmp_path_factory):
    """A 30 fps stream whose container says it was captured at 240 fps (Android slow motion)."""
    return clip(tmp_path_factory.mktemp("android") / "slowmo.mp4", 30,
                "com.android.capture.fps=240.000000")


def test_an_android_capture_rate_is_the_videos_rate_and_said(android):
    info = probe(android)
    assert (info.fps, info.stream_fps, info.frames) == (240.0, 30.0, 12)
    assert info.notes == [f"{android}: the stream says 30 fps, its capture rate "
                          "(com.android.capture.fps) 240 fps: using 240 fps (fps_override sets "
                          "another)"]


def test_fps_override_wins_over_the_capture_rate(android):
    info = probe(android, fps_override=200.0)
    assert info.fps == 200.0 and info.notes == []


def test_a_capture_rate_equal_to_the_streams_says_nothing(tmp_path):
    info = probe(clip(tmp_path / "normal.mp4", 30, "com.android.capture.fps=30.000000"),
                 warn_fps=0)
    assert info.fps == 30.0 and info.notes == []


def test_wilddeblur_probe_says_a_low_rate_in_one_line(tmp_path):
    video = clip(tmp_path / "plain.mp4")
    res = subprocess.run([sys.executable, "-m", "wilddeblur", "probe", str(video), "-o",
                          str(tmp_path / "plain.json")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stderr.splitlines() == [
        f"warning: {video}: 30 fps, below probe.warn_fps 120: averaging frames this far apart "
        "makes ghosts (the paper used 240 fps); if the camera recorded faster than the "
        "container says (slow motion), give its rate in fps_override"]
    assert probe(video).notes == [res.stderr.strip().removeprefix("warning: ")]


def test_a_workflow_run_says_a_low_rate_on_the_console(tmp_path, android):
    """The probe job's note reaches the console of a plain local run (and its log)."""
    wd = workflow_copy(tmp_path)
    (wd / "videos").mkdir()
    clip(wd / "videos" / "plain.mp4")
    (wd / "videos" / "slowmo.mp4").write_bytes(android.read_bytes())
    cfg = wd / "rates.yaml"
    cfg.write_text("videos: [videos/plain.mp4, videos/slowmo.mp4]\n")
    res = run(wd, "results/probe/plain.json", "results/probe/slowmo.json", "--configfile",
              str(cfg))
    assert res.returncode == 0, res.stderr[-3000:]
    console = res.stdout + res.stderr
    assert "warning: videos/plain.mp4: 30 fps, below probe.warn_fps 120" in console
    assert "give its rate in fps_override" in console
    assert ("warning: videos/slowmo.mp4: the stream says 30 fps, its capture rate "
            "(com.android.capture.fps) 240 fps" in console)
    assert "below probe.warn_fps" in (wd / "logs" / "probe" / "plain.log").read_text()


def test_report_md_opens_with_the_frame_rate_notes(tmp_path, android):
    """build_report on a one-image evaluation: the probes' notes come first."""
    plain = clip(tmp_path / "plain.mp4")
    probes = []
    for video in (plain, android):
        probes.append(tmp_path / f"{video.stem}.json")
        probes[-1].write_text(probe(video).to_json())
    rows = [{"method": m, "file": "test/shard-00000.h5", "index": 0, "video": "plain",
             "center": 3, "psnr": p, "ssim": 0.9, "psnr_shift": p, "psnr_float": p}
            for m, p in (("blurry", 30.0), ("DeblurNetWILD", 31.0))]
    pd.DataFrame(rows).to_csv(tmp_path / "eval.csv", index=False)
    pd.DataFrame({"video": ["plain"], "kept": [True], "reason": [""], "ne": [7],
                  "split": ["test"]}).to_csv(tmp_path / "selection.csv", index=False)
    (tmp_path / "train" / "DeblurNetWILD").mkdir(parents=True)
    pd.DataFrame({"step": [1], "loss": [0.1], "seconds": [1.0]}).to_csv(
        tmp_path / "train" / "DeblurNetWILD" / "history.csv", index=False)
    examples = tmp_path / "examples" / "DeblurNetWILD-examples"
    examples.mkdir(parents=True)
    imsave(examples / "0.png", np.zeros((8, 8, 3), np.uint8), check_contrast=False)
    shard = tmp_path / "data" / "test" / "shard-00000.h5"
    shard.parent.mkdir(parents=True)
    write_one_sample_shard(shard)
    context = {"data": "two clips", "statistic": "region", "threshold": 1.0,
               "max_match_err": 0.1, "ne_min": 7, "ne_max": 7}
    run = TrainedRun(tmp_path / "model.pt", tmp_path / "train" / "DeblurNetWILD" / "history.csv",
                     examples)
    inputs = ReportInputs([tmp_path / "eval.csv"], tmp_path / "selection.csv",
                          {"DeblurNetWILD": run}, shards=[shard], probes=probes)
    with pytest.raises(ConfigError, match="test/shard-00000.h5 is named by the evaluation"):
        build_report(replace(inputs, shards=[]), tmp_path / "none" / "report.md", context=context)
    md = build_report(inputs, tmp_path / "report" / "report.md", context=context)
    lines = md.read_text().splitlines()
    assert lines[0] == "# wilddeblur report"
    assert lines[2].startswith(f"**Frame rate:** {plain}: 30 fps, below probe.warn_fps 120")
    assert lines[2].endswith("give its rate in fps_override")
    assert lines[4] == (f"**Frame rate:** {android}: the stream says 30 fps, its capture rate "
                        "(com.android.capture.fps) 240 fps: using 240 fps (fps_override sets "
                        "another)")


def write_one_sample_shard(path):
    """A shard holding one 8×8 sample (the examples figure reads it)."""
    from wilddeblur.dataset.shards import write_shard

    class Frames:
        def window(self, start, ne):
            return np.full((ne, 8, 8, 3), 100, np.uint8)

    rows = pd.DataFrame({"video": "plain", "start": 0, "ne": 7, "center": 3, "flow_mean": 0.1,
                         "flow_p95": 0.1, "flow_p99": 0.1, "flow_region": 0.1, "flow_max": 0.1,
                         "match_err": 0.0, "match_err_local": 0.0, "blur_size": 0.5,
                         "index": [0]})
    write_shard(path, rows, {"plain": Frames()}, "abc")


def test_deblur_keeps_a_slow_motion_clips_playback_rate(tmp_path, android):
    """`wilddeblur deblur` writes the container's 30 fps, not the 240 fps capture rate."""
    from tests.test_deblur import DeblurNet, save_atomic

    ckpt = tmp_path / "model.pt"
    save_atomic({"arch": "DeblurNet", "model": DeblurNet().state_dict(), "step": 0}, ckpt)
    res = subprocess.run([sys.executable, "-m", "wilddeblur", "deblur", str(android), "-o",
                          str(tmp_path / "out.mp4"), "--checkpoint", str(ckpt), "--device",
                          "cpu"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    out = probe(tmp_path / "out.mp4", warn_fps=0)
    assert (out.fps, out.frames) == (30.0, 12)
