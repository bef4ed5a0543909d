"""The dataset build stores no frames: while it runs, everything under results/ other than the
shards stays smaller than the shards (polled), and one shard rebuilt on its own (decoding its
videos again) is the same file, byte for byte."""

import hashlib
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import workflow_copy
from tests.test_workflow import run
from wilddeblur.video.demo import render_clip


def is_shard(path: Path) -> bool:
    return path.parent.parent.name == "dataset" and path.name.startswith("shard-")


class DiskPoller(threading.Thread):
    """Samples, every 20 ms, the bytes of files under ``root`` that are not shards."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.peak_files = root, 0, []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            files = [p for p in self.root.rglob("*") if not is_shard(p)]
            sizes = {}
            for p in files:
                try:
                    if p.is_file():
                        sizes[p] = p.stat().st_size
                except FileNotFoundError:  # renamed or removed meanwhile
                    continue
            if sum(sizes.values()) > self.peak:
                self.peak = sum(sizes.values())
                self.peak_files = sorted(sizes, key=sizes.get)[-3:]
            time.sleep(0.02)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_build_keeps_less_than_its_shards_besides_them_and_a_shard_rebuilds_identically(
        tmp_path):
    (tmp_path / "wd").mkdir()
    wd = workflow_copy(tmp_path / "wd")
    videos = tmp_path / "videos"  # the user's footage lies outside results/
    for name in ("clip-a", "clip-b"):
        render_clip(name.replace("clip", "demo-train"), videos / f"{name}.mp4", width=384,
                    height=216, seconds=1.0)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "videos": [str(videos / "*.mp4")], "split": {"test_videos": ["clip-b"]},
        "dataset": {"samples_per_shard": 4}}))
    poller = DiskPoller(wd / "results")
    (wd / "results").mkdir()
    poller.start()
    try:
        res = run(wd, "results/dataset/verify.txt", "--configfile", str(config))
    finally:
        poller.stop.set()
        poller.join()
    assert res.returncode == 0, res.stderr[-3000:]
    shards = sorted((wd / "results/dataset").rglob("shard-*.h5"))
    shard_bytes = sum(p.stat().st_size for p in shards)
    assert len(shards) >= 3 and shard_bytes > 0
    # a store of these frames (2 × 240 at 128×72) would take 13 MB; the shards take about 1 MB
    assert poller.peak < shard_bytes, (poller.peak, shard_bytes, poller.peak_files)

    first = wd / "results/dataset/train/shard-00000.h5"
    before = sha256(first)
    again = run(wd, "results/dataset/train/shard-00000.h5", "--force", "--configfile",
                str(config))
    assert again.returncode == 0, again.stderr[-3000:]
    assert sha256(first) == before
