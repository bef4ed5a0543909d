"""Cluster submission against a real Slurm: a one-node cluster on this machine
(tests/slurm/start.sh) driven through profiles/slurm and snakemake-executor-plugin-slurm.

Needs Debian's packages slurmctld, slurmd, slurm-client and munge, and root: as root, or as a
user who may run `sudo` without a password prompt (the cluster's daemons and
/etc/slurm/slurm.conf are started and written through `sudo -n`; the jobs then run as that
user). Skipped only when the Slurm binaries are missing."""

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, workflow_copy

SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
MISSING = [exe for exe in ("sbatch", "squeue", "sinfo", "slurmctld", "slurmd", "munged")
           if shutil.which(exe, path=SBIN) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING),
    reason=f"Slurm is not installed ({', '.join(MISSING)} missing; "
    "apt-get install -y slurmctld slurmd slurm-client munge)",
)

TINY = ROOT / "tests" / "config" / "tiny.yaml"
OVERRIDES = ROOT / "tests" / "slurm" / "tiny-overrides.yaml"
PROFILES = [ROOT / "profiles" / "slurm", ROOT / "tests" / "slurm" / "profile"]


def as_root(script: str) -> list[str]:
    """``bash script``, through ``sudo -n`` (keeping WILDDEBLUR_SLURM_*) unless we are root."""
    cmd = ["bash", str(ROOT / "tests" / "slurm" / script)]
    if os.geteuid() == 0:
        return cmd
    if shutil.which("sudo") is None:
        pytest.fail("the Slurm test starts Slurm's daemons: run it as root, or install sudo")
    keep = [f"{k}={v}" for k, v in os.environ.items() if k.startswith("WILDDEBLUR_SLURM_")]
    return ["sudo", "-n", "env", *keep, *cmd]


@pytest.fixture(scope="session")
def slurm_cluster():
    """The one-node cluster, started (or reused, if one answers) for the session."""
    env = {k: v for k, v in os.environ.items() if k != "SLURM_CONF"}
    res = subprocess.run(as_root("start.sh"), env=env, capture_output=True, text=True,
                         timeout=120)
    if res.returncode != 0:
        pytest.fail(f"tests/slurm/start.sh failed (as root; through `sudo -n` for other "
                    f"users, which must not ask for a password):\n{res.stdout}\n{res.stderr}")
    yield
    if res.stdout.split()[-1:] == ["started"]:  # stop only what this session started
        subprocess.run(as_root("stop.sh"), env=env, timeout=60)


def snakemake_slurm(cwd: Path, *args: str, limit: int) -> subprocess.CompletedProcess:
    """snakemake --profile profiles/slurm (+ the test cluster's settings), killed after
    `limit` seconds: a hung snakemake ignores SIGTERM, hence -k."""
    profiles = [a for p in PROFILES for a in ("--profile", str(p))]
    cores = str(min(2, os.cpu_count() or 1))
    cmd = ["timeout", "-k", "10", str(limit), sys.executable, "-m", "snakemake",
           *profiles, "--cores", cores, *args]
    bindir = str(Path(sys.executable).parent)  # `wilddeblur`, inside the jobs too
    env = {k: v for k, v in os.environ.items() if k != "SLURM_CONF"}
    env["PATH"] = bindir + os.pathsep + env["PATH"]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=limit + 30)


@pytest.mark.slow
def test_tiny_run_through_slurm(slurm_cluster, tmp_path):
    wd = workflow_copy(tmp_path)
    # a guard against hangs, not a speed test: 430 s did not suffice on a loaded 2-core machine
    res = snakemake_slurm(wd, "--configfile", str(TINY), str(OVERRIDES), limit=900)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-5000:]

    table = pd.read_csv(wd / "results/report/psnr.csv")
    assert {"blurry", "DeblurNetWILD"} <= set(table["method"])
    assert (wd / "results/report/report.md").exists()

    # Every job but the local ones (`all`) went through sbatch: one Slurm log per job (kept by
    # the test profile's slurm-keep-successful-logs) in
    # .snakemake/slurm_logs/rule_<rule>/[<wildcards>/]<slurm job id>.log
    finished = Counter(re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", out))
    local = set(re.findall(r"^localrule (\w+):", out, flags=re.M))
    by_rule: dict[str, list[Path]] = {}
    for log in sorted((wd / ".snakemake/slurm_logs").rglob("*.log")):
        rule = log.relative_to(wd / ".snakemake/slurm_logs").parts[0].removeprefix("rule_")
        by_rule.setdefault(rule, []).append(log)
    assert {r: len(v) for r, v in by_rule.items()} == {
        r: n for r, n in finished.items() if r not in local
    }
    assert {"probe", "flow", "select", "average", "manifest", "train", "report"} <= set(
        by_rule
    )
    shards = pd.read_csv(wd / "results/dataset/manifest.csv")[["split", "shard"]]
    assert len(by_rule["average"]) == len(shards.drop_duplicates())
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", out)
    assert sorted(submitted) == sorted(p.stem for v in by_rule.values() for p in v)
    assert "Falling back to 'sacct'" not in out

    # Resources reached Slurm: threads -> CPUs, mem_mb -> --mem, runtime -> -t; one train job
    # per network of model.arch (DeblurNetWILD, NAFNetWILD).
    assert len(by_rule["train"]) == 2
    for train_log in by_rule["train"]:
        job = subprocess.run(["scontrol", "show", "job", train_log.stem],
                             capture_output=True, text=True).stdout
        assert job, "the train job is gone from slurmctld (MinJobAge too short?)"
        assert "NumCPUs=2 " in job, job  # resources.train_threads of tiny-overrides.yaml
        assert "TimeLimit=00:30:00" in job, job
        assert re.search(r"\bmem=2000M\b", job), job


def test_failing_job_fails_the_run(slurm_cluster, tmp_path):
    wd = workflow_copy(tmp_path)
    (wd / "not-a-video.mp4").write_text("this is not a video\n")
    cfg = wd / "bad.yaml"
    cfg.write_text(f"videos: [{wd / 'not-a-video.mp4'}]\n")
    # a guard against hangs (as above): one probe job, but sbatch, the plugin's status checks
    # and Snakemake's start all slow down on a loaded machine
    res = snakemake_slurm(wd, "--configfile", str(cfg), str(OVERRIDES), limit=900)
    out = res.stdout + res.stderr
    assert res.returncode not in (0, 124, 137), out[-5000:]  # failed, not hung
    assert "Error in rule probe" in out, out[-5000:]
    assert "SLURM status is: 'FAILED'" in out, out[-5000:]
    assert "ffprobe cannot read it" in (wd / "logs/probe/not-a-video.log").read_text()
    assert list((wd / ".snakemake/slurm_logs/rule_probe").rglob("*.log"))
