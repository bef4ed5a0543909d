"""The Snakemake workflow: dry run, lint, config errors, and a tiny end-to-end run that is
interrupted during training and resumed."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from tests.conftest import ROOT, planned_jobs, workflow_copy

TINY = ROOT / "tests" / "config" / "tiny.yaml"


def snakemake_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--cores", "2", *args]


def env() -> dict:
    bindir = str(Path(sys.executable).parent)  # `wilddeblur` next to this interpreter
    return {**os.environ, "PATH": bindir + os.pathsep + os.environ["PATH"]}


def run(cwd: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_cmd(*args), cwd=cwd, env=env(), capture_output=True,
                          text=True, timeout=timeout)


def test_dry_run_of_the_demo(tmp_path):
    res = run(workflow_copy(tmp_path), "-n", "--quiet", "rules")
    assert res.returncode == 0, res.stderr
    jobs = planned_jobs(res.stdout + res.stderr)
    # seven clips, each decoded once for its flow; no frame store
    assert {r: jobs.get(r) for r in ("demo_clip", "probe", "flow", "select", "manifest",
                                     "verify", "train", "train_si", "report", "all")} == {
        "demo_clip": 7, "probe": 7, "flow": 7, "select": 1, "manifest": 1, "verify": 1,
        "train": 2, "train_si": 2, "report": 1, "all": 1}  # DeblurNet and NAFNet
    # Table 2's baselines: L0, Xu & Jia and Sun on test-15 and si-test; Sun's CNN trained once
    assert {r: jobs.get(r) for r in ("baseline_l0_wild", "baseline_l0_si", "baseline_wild",
                                     "baseline_si", "train_sun2015")} == {
        "baseline_l0_wild": 1, "baseline_l0_si": 1, "baseline_wild": 2, "baseline_si": 2,
        "train_sun2015": 1}


def test_paper_config_on_gopro_file_names(tmp_path):
    """config/paper.yaml lists videos/**/*.mp4 and *.MP4; GoPro files are upper case. It
    trains DeblurNet alone (read over config.yaml, which trains NAFNet too)."""
    wd = workflow_copy(tmp_path)
    for name in ("GX010001.MP4", "GX010002.MP4", "sub/test_GX010003.MP4"):
        (wd / "videos" / name).parent.mkdir(parents=True, exist_ok=True)
        (wd / "videos" / name).write_bytes(b"")
    res = run(wd, "-n", "--quiet", "rules", "--configfile", str(ROOT / "config/paper.yaml"))
    assert res.returncode == 0, res.stderr[-3000:]
    jobs = planned_jobs(res.stdout + res.stderr)
    assert (jobs["probe"], jobs["flow"], jobs["select"], jobs["train"]) == (3, 3, 1, 1)
    assert "demo_clip" not in jobs


def test_local_profile_dry_run(tmp_path):
    wd = workflow_copy(tmp_path)
    res = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--profile", "profiles/local"],
                         cwd=wd, env=env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    jobs = planned_jobs(res.stdout + res.stderr)
    assert jobs["train"] == jobs["train_si"] == 2 and jobs["report"] == 1


def test_a_failed_job_shows_its_error_on_the_console(tmp_path):
    """Plain `snakemake --cores N` (profiles/default): the job's log is printed, not only
    named."""
    wd = workflow_copy(tmp_path)
    (wd / "videos").mkdir()
    (wd / "videos" / "bad.mp4").write_text("this is not a video\n")
    cfg = wd / "bad.yaml"
    cfg.write_text("videos: [videos/bad.mp4]\n")
    res = run(wd, "results/probe/bad.json", "--configfile", str(cfg))
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "Error in rule probe" in out
    assert "videos/bad.mp4: ffprobe cannot read it" in out, out[-3000:]
    assert "Traceback" not in out  # an expected error: one line in the log


def test_a_split_that_would_be_empty_is_refused_before_any_job(tmp_path):
    wd = workflow_copy(tmp_path)
    (wd / "videos").mkdir()
    for name in ("a.mp4", "b.mp4"):
        (wd / "videos" / name).write_bytes(b"")
    cfg = wd / "split.yaml"
    cfg.write_text("videos: [videos/*.mp4]\nsplit: {test_videos: [park_*]}\n")
    res = run(wd, "--configfile", str(cfg))
    assert res.returncode != 0
    assert res.stderr.strip().splitlines()[-1] == (
        "error: split.test_videos: 'park_*' matches no input video (a, b); name a test video, "
        "or leave it empty")
    assert not (wd / "results").exists() and 'File "' not in res.stderr


@pytest.fixture(scope="module")
def fast_clip(tmp_path_factory) -> Path:
    """A 20 fps hand-held-like clip: a photo panning 12 px a frame (4 px downsampled)."""
    out = tmp_path_factory.mktemp("fast") / "fast.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=1280x216:rate=20:duration=2", "-vf",
                    "crop=384:216:x='12*n':y=0", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    str(out)], check=True)
    return out


def test_a_selection_that_keeps_nothing_stops_at_select(tmp_path, fast_clip):
    wd = workflow_copy(tmp_path)
    cfg = wd / "fast.yaml"
    cfg.write_text(f"videos: [{fast_clip}]\n")
    res = run(wd, "--configfile", str(cfg))
    out = res.stdout + res.stderr
    assert res.returncode != 0

    assert "Error in rule select" in out and "Traceback" not in out
    assert "error: select: no window is kept in split 'test' or 'train'" in out
    assert "fast (train, 20 fps, " in out and "rejected for flow" in out
    assert "fast (test, 20 fps, 8 frames): 0 windows tried" in out  # the time split's end
    assert "To change: a longer clip" in out and "footage that moves less between frames" in out
    assert (wd / "results/select/selection.failed.csv").is_file()
    assert not (wd / "results/dataset").exists()  # no job after the checkpoint started


def test_lint_is_clean():
    res = run(ROOT, "--lint")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Congratulations" in res.stdout + res.stderr


@pytest.mark.parametrize("override,message", [
    ("bogus=1", "config key 'bogus' is unknown"),
    ("seed=abc", "config key 'seed': 'abc' is not of type 'integer'"),
])
def test_bad_config_stops_the_run_naming_the_key(override, message):
    res = run(ROOT, "-n", "--config", override)
    assert res.returncode != 0
    assert res.stderr.strip().splitlines()[-1].startswith(f"error: {message}")
    assert 'File "' not in res.stdout + res.stderr  # no traceback


def test_mistyped_nested_key_is_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  stepz: 3\n")
    res = run(ROOT, "-n", "--configfile", str(bad))
    assert res.returncode != 0
    assert "config key 'train.stepz' is unknown" in res.stdout + res.stderr


def wait_for_checkpoint(proc: subprocess.Popen, last: Path, step: int = 3) -> None:
    """Wait until the running workflow's training has checkpointed ``step`` steps."""
    deadline = time.time() + 600
    while not (last.exists() and torch.load(last, weights_only=True)["step"] >= step):
        assert proc.poll() is None, "snakemake ended before training checkpointed"
        assert time.time() < deadline, "no training checkpoint within 10 minutes"
        time.sleep(0.5)


@pytest.mark.slow
def test_end_to_end_interrupted_in_training_then_resumed(tmp_path):
    wd = workflow_copy(tmp_path)
    last = wd / "results/train/DeblurNetWILD/last.pt"
    proc = subprocess.Popen(snakemake_cmd("--configfile", str(TINY)), cwd=wd, env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for_checkpoint(proc, last)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert not (wd / "results/train/DeblurNetWILD/model.pt").exists()
    interrupted_at = torch.load(last, weights_only=True)["step"]
    assert 3 <= interrupted_at < 40

    res = run(wd, "--configfile", str(TINY))
    assert res.returncode == 0, res.stderr[-3000:]
    train_log = (wd / "logs/train/DeblurNetWILD.log").read_text()
    assert "resuming from" in train_log
    steps = pd.read_csv(wd / "results/train/DeblurNetWILD/log.csv")["step"].tolist()
    assert steps == list(range(1, 41))

    table = pd.read_csv(wd / "results/report/psnr.csv")
    baselines = ["uniform L0 (after Xu et al. 2013)", "Xu & Jia 2010", "Sun et al. 2015"]
    networks = ["DeblurNetWILD", "DeblurNetSI", "NAFNetWILD", "NAFNetSI"]
    methods = ["blurry", *networks, *baselines]
    si_methods = ["blurry", *networks, *baselines, "oracle-wiener"]
    assert list(table["method"]) == methods * 2 + si_methods
    assert list(table["split"]) == ["test"] * 8 + ["test-3"] * 8 + ["si-test"] * 9  # 3 images
    arch = table.set_index("method")["architecture"].fillna("").to_dict()
    assert [arch[m] for m in methods] == ["", "deblurnet", "deblurnet", "nafnet", "nafnet",
                                         "", "", ""]
    assert set(table.columns) >= {"method", "split", "n_images", "psnr", "ssim"}
    assert (table["n_images"] == 3).all() and table["psnr"].between(10, 60).all()
    assert (wd / "results/report/examples.png").stat().st_size > 10_000
    report_md = (wd / "results/report/report.md").read_text()
    assert "Table 2" in report_md
    assert "Sun et al. 2015" in report_md and "not computed" not in report_md
    assert "## Dataset check" in report_md and "every shard matches its checksum" in report_md
    for fig in ("dataset", "fig2_pair", "fig9_residual_vs_blur", "fig10_extremes", "real_blurry"):
        assert (wd / f"results/report/figures/{fig}.png").stat().st_size > 10_000, fig
    man = pd.read_csv(wd / "results/dataset/manifest.csv")
    assert set(man["split"]) == {"train", "test"}
    assert set(man.loc[man["split"] == "test", "video"]) == {"demo-test-a"}

    again = run(wd, "--configfile", str(TINY), "-n")
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr
    # the shards after a rerun of the select checkpoint are planned once it has run
    for change, rerun, kept in (("interpolate: {factor: 2}", {"flow", "select"}, set()),
                                ("average: {noise: poisson_gaussian}", {"average"},
                                 {"flow", "select"})):
        (wd / "change.yaml").write_text(change + "\n")
        plan = run(wd, "--configfile", str(TINY), str(wd / "change.yaml"), "-n")
        jobs = planned_jobs(plan.stdout + plan.stderr)
        assert rerun <= set(jobs) and not kept & set(jobs), (change, jobs)

    html = run(wd, "--configfile", str(TINY), "--report", "report.html")
    assert html.returncode == 0, html.stderr[-2000:]
    page = (wd / "report.html").read_text(errors="replace")
    assert "fig9_residual_vs_blur.png" in page and "psnr.csv" in page


@pytest.mark.slow
def test_hard_kill_then_unlock_and_rerun_resumes_training(tmp_path):
    """kill -9 of the whole run (Snakemake and its jobs: a lost login node, a power cut): the
    same command then stops with Snakemake's LockException; after --unlock, a rerun resumes
    training from last.pt and finishes with the log of an uninterrupted run."""
    wd = workflow_copy(tmp_path)
    target = "results/train/DeblurNetWILD/model.pt"
    last = wd / "results/train/DeblurNetWILD/last.pt"
    proc = subprocess.Popen(snakemake_cmd(target, "--configfile", str(TINY)), cwd=wd, env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for_checkpoint(proc, last)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # no clean-up runs anywhere in the group
        proc.wait(timeout=60)
    killed_at = torch.load(last, weights_only=True)["step"]
    assert 3 <= killed_at < 40 and not (wd / target).exists()

    again = run(wd, target, "--configfile", str(TINY))
    assert again.returncode != 0
    assert "LockException" in again.stdout + again.stderr, again.stderr[-2000:]
    assert torch.load(last, weights_only=True)["step"] == killed_at  # nothing ran

    unlock = run(wd, "--unlock", "--configfile", str(TINY))
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    res = run(wd, target, "--configfile", str(TINY))
    assert res.returncode == 0, res.stderr[-3000:]
    train_log = (wd / "logs/train/DeblurNetWILD.log").read_text()
    assert f"resuming from results/train/DeblurNetWILD/last.pt at step {killed_at}" in train_log
    steps = pd.read_csv(wd / "results/train/DeblurNetWILD/log.csv")["step"].tolist()
    assert steps == list(range(1, 41))
    assert torch.load(wd / target, weights_only=True)["step"] == 40
