"""Exports: GoPro and paired layouts pixel for pixel, unique names, the list file, refusal of a
non-empty OUT, atomicity, clear errors, and a read-back through the external-set reader."""

import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.conftest import ArrayFrames
from wilddeblur.dataset.export import ExportError, export_dataset
from wilddeblur.dataset.shards import ShardError, manifest, shard_path, write_shard
from wilddeblur.evaluation.external import (
    ExternalSetError,
    evaluate_external,
    gopro_pairs,
    load_pairs,
    paired_pairs,
)

READERS = {"gopro": gopro_pairs, "paired": paired_pairs}
# (split, shard) -> video, [(start, ne)]: windows of video a share centre 8; b has a's centre 4
SHARDS = {("train", 0): ("a", [(0, 9), (4, 9), (0, 17)]), ("train", 1): ("c", [(2, 7)]),
          ("test", 0): ("b", [(0, 9), (10, 11)])}


@pytest.fixture
def dataset(tmp_path):
    """Three shards of two splits and their manifest; returns the manifest's path."""
    root = tmp_path / "dataset"
    paths = []
    for (split, shard), (video, windows) in SHARDS.items():
        frames = np.random.default_rng(len(paths)).integers(0, 256, (40, 12, 16, 3), np.uint8)
        starts, nes = zip(*windows, strict=True)
        rows = pd.DataFrame({"video": video, "start": starts, "ne": nes,
                             "center": [s + n // 2 for s, n in windows], "flow_mean": 0.1,
                             "flow_p95": 0.2, "flow_p99": 0.3, "flow_max": 0.4,
                             "match_err": 0.01, "flow_region": 0.4, "match_err_local": 0.02,
                             "blur_size": np.arange(len(windows)) + 1.5,
                             "index": range(len(windows))})
        paths.append(shard_path(root, split, shard))
        write_shard(paths[-1], rows, {video: ArrayFrames(frames)}, "abc")
    csv = root / "manifest.csv"
    manifest(paths, root).to_csv(csv, index=False)
    return csv


def shard_arrays(man_csv, row):
    with h5py.File(man_csv.parent / row["shard_file"]) as f:
        return f["blurry"][row["index"]], f["sharp"][row["index"]]


@pytest.mark.parametrize("layout", ["gopro", "paired"])
def test_every_sample_pixel_for_pixel(dataset, tmp_path, layout):
    out = tmp_path / "export"
    listing = export_dataset(dataset, out, layout)
    assert len(listing) == len(pd.read_csv(dataset)) == 6
    for _, row in pd.read_csv(out / "list.csv").iterrows():
        blurry, sharp = shard_arrays(dataset, row)
        np.testing.assert_array_equal(np.asarray(Image.open(out / row["blurry"])), blurry)
        np.testing.assert_array_equal(np.asarray(Image.open(out / row["sharp"])), sharp)
    written = {str(p.relative_to(out)) for p in out.rglob("*.png")}
    assert written == set(listing["blurry"]) | set(listing["sharp"])  # nothing else


def test_names(dataset, tmp_path):
    gopro = export_dataset(dataset, tmp_path / "gopro", "gopro")
    assert list(gopro["blurry"]) == [
        "train/a/blur/000004.png", "train/a/blur/000008-ne09.png",
        "train/a/blur/000008-ne17.png", "train/c/blur/000005.png",
        "test/b/blur/000004.png", "test/b/blur/000015.png"]
    assert list(gopro["sharp"]) == [p.replace("/blur/", "/sharp/") for p in gopro["blurry"]]
    paired = export_dataset(dataset, tmp_path / "paired", "paired")
    assert list(paired["blurry"]) == [
        "train/input/a_000004.png", "train/input/a_000008-ne09.png",
        "train/input/a_000008-ne17.png", "train/input/c_000005.png",
        "test/input/b_000004.png", "test/input/b_000015.png"]
    assert list(paired["sharp"]) == [p.replace("/input/", "/target/") for p in paired["blurry"]]


def test_list_file_carries_the_manifest(dataset, tmp_path):
    export_dataset(dataset, tmp_path / "out", "paired")
    listing, man = pd.read_csv(tmp_path / "out" / "list.csv"), pd.read_csv(dataset)
    assert list(listing.columns[:3]) == ["split", "blurry", "sharp"]
    pd.testing.assert_frame_equal(
        listing.drop(columns=["blurry", "sharp"]),
        man.rename(columns={"file": "shard_file", "sha256": "shard_sha256"}))


def test_one_split(dataset, tmp_path):
    listing = export_dataset(dataset, tmp_path / "out", "gopro", split="test")
    assert set(listing["split"]) == {"test"} and len(listing) == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["list.csv", "test"]
    with pytest.raises(ExportError, match="no sample of split 'val'"):
        export_dataset(dataset, tmp_path / "none", "gopro", split="val")


@pytest.mark.parametrize("layout", ["gopro", "paired"])
def test_read_back_gives_the_shards_blurry_psnr(dataset, tmp_path, layout):
    out = tmp_path / "out"
    export_dataset(dataset, out, layout)
    listing = pd.read_csv(out / "list.csv")
    test = listing[listing["split"] == "test"]
    pairs = READERS[layout](out, "test")
    assert len(pairs) == len(test)
    for name, blurry, sharp in load_pairs(pairs):  # and the reader's pixels are the shards'
        row = test[test["blurry"].str.endswith(name.replace("/", "/blur/"))
                   if layout == "gopro" else test["blurry"].str.endswith("/" + name)].iloc[0]
        want_blurry, want_sharp = shard_arrays(dataset, row)
        np.testing.assert_array_equal(blurry, want_blurry)
        np.testing.assert_array_equal(sharp, want_sharp)
    expected = []
    for _, row in test.iterrows():
        blurry, sharp = (a.astype(np.float64) / 255 for a in shard_arrays(dataset, row))
        expected.append(10 * np.log10(1 / np.mean((blurry - sharp) ** 2)))
    table = evaluate_external(pairs, "blurry")
    assert table["psnr"].mean() == pytest.approx(np.mean(expected), abs=1e-9)


def test_a_non_empty_out_is_refused_unless_forced(dataset, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    export_dataset(dataset, out, "gopro")  # an empty folder is fine
    (out / "mine.txt").write_text("keep")
    with pytest.raises(ExportError, match=f"{out}: exists and is not empty"):
        export_dataset(dataset, out, "paired")
    assert (out / "mine.txt").read_text() == "keep" and (out / "train" / "a").is_dir()
    export_dataset(dataset, out, "paired", force=True)
    assert sorted(p.name for p in out.iterdir()) == ["list.csv", "test", "train"]
    assert (out / "train" / "input").is_dir() and not (out / "train" / "a").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset", "out"]  # nothing beside


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_a_failure_midway_leaves_no_export(dataset, tmp_path):
    shard = dataset.parent / "train" / "shard-00001.h5"  # the second shard: some PNGs are done
    truncate(shard)
    with pytest.raises(ShardError, match=str(shard)):
        export_dataset(dataset, tmp_path / "out", "gopro")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset"]  # no OUT, no temp folder
    old = tmp_path / "old"
    (old / "train").mkdir(parents=True)
    (old / "list.csv").write_text("previous export")
    with pytest.raises(ShardError):
        export_dataset(dataset, old, "gopro", force=True)
    assert (old / "list.csv").read_text() == "previous export"  # the old one is kept whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset", "old"]


def export_cli(*args):
    return subprocess.run([sys.executable, "-m", "wilddeblur", "export", *map(str, args)],
                          capture_output=True, text=True)


def test_bad_input_is_one_line_naming_the_file(dataset, tmp_path):
    res = export_cli(tmp_path / "nope.csv", tmp_path / "out", "--layout", "paired")
    assert res.returncode != 0
    assert res.stderr.strip() == f"wilddeblur export: error: {tmp_path / 'nope.csv'}: no such file"
    shard = dataset.parent / "test" / "shard-00000.h5"
    truncate(shard)
    res = export_cli(dataset, tmp_path / "out", "--layout", "paired")
    assert res.returncode != 0  # the error is the last line, after the progress bar
    assert res.stderr.strip().splitlines()[-1].startswith(f"wilddeblur export: error: {shard}: ")
    assert not (tmp_path / "out").exists()
    res = export_cli(dataset, tmp_path / "out", "--layout", "paired", "--split", "train")
    assert res.returncode == 0 and "4 pairs (4 train)" in res.stdout


def test_paired_reader_names_a_missing_partner(dataset, tmp_path):
    export_dataset(dataset, tmp_path / "out", "paired")
    lost = tmp_path / "out" / "test" / "target" / "b_000015.png"
    lost.unlink()
    with pytest.raises(ExternalSetError, match=f"{lost}: missing; .*input/b_000015.png"):
        paired_pairs(tmp_path / "out", "test")
