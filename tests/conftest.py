"""Shared fixtures: tiny demo clips, made once per test session, and frames in memory."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from wilddeblur.video.demo import render_clip

ROOT = Path(__file__).resolve().parents[1]

if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
    raise RuntimeError("the tests need ffmpeg and ffprobe (apt-get install -y ffmpeg)")


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> Path:
    """A demo clip at 384×216 (downsampled: 128×72), 240 fps, 1 s, with its motion table."""
    out = tmp_path_factory.mktemp("clip") / "demo-train-a.mp4"
    render_clip("demo-train-a", out, width=384, height=216, fps=240, seconds=1.0, seed=0)
    return out


def workflow_copy(dest: Path) -> Path:
    """The workflow files in a fresh folder (as in a fresh clone)."""
    shutil.copy(ROOT / "Snakefile", dest)
    shutil.copy(ROOT / "config.yaml", dest)
    shutil.copytree(ROOT / "workflow", dest / "workflow")
    shutil.copytree(ROOT / "scripts", dest / "scripts")  # the rules' script: entry points
    shutil.copytree(ROOT / "envs", dest / "envs")
    shutil.copytree(ROOT / "profiles", dest / "profiles")  # profiles/default: always read
    return dest


class ArrayFrames:
    """A shard's frame source (``write_shard``'s ``sources``) over frames in memory."""

    def __init__(self, frames: np.ndarray) -> None:
        self.frames = frames

    def window(self, start: int, ne: int) -> np.ndarray:
        return self.frames[start : start + ne]


class Sharpen(torch.nn.Module):
    """A stand-in for DeblurNet: unsharp masking, so the residual depends on the image."""

    def deblur(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.5 * (x - F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False))


def planned_jobs(snakemake_output: str) -> dict[str, int]:
    """Rule name → job count, from the "Job stats" table of a Snakemake (dry) run."""
    lines = snakemake_output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split() == ["job", "count"])
    jobs = {}
    for line in lines[start + 2 :]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        jobs[parts[0]] = int(parts[1])
    return jobs
