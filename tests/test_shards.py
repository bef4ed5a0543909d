"""Shards: round trip, identical rebuilds, atomic writes, manifest checksums and verify."""

import zlib

import h5py
import numpy as np
import pandas as pd
import pytest

from tests.conftest import ArrayFrames
from wilddeblur.dataset.average import Averaging, blurry_sharp_pair, draw_parameters
from wilddeblur.dataset.shards import (
    FORMAT_VERSION,
    META_COLUMNS,
    OPTIONAL_META,
    ShardError,
    manifest,
    open_shard,
    shard_path,
    verify,
    write_shard,
)


@pytest.fixture
def dataset(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (40, 12, 16, 3), dtype=np.uint8)
    store = ArrayFrames(frames)
    rows = pd.DataFrame({"video": "v", "start": [0, 9, 20], "ne": [7, 9, 11],
                         "center": [3, 13, 25], "flow_mean": 0.1, "flow_p95": 0.2,
                         "flow_p99": 0.3, "flow_max": 0.4, "match_err": 0.01,
                         "flow_region": 0.4, "match_err_local": 0.02,
                         "blur_size": 1.0, "index": [0, 1, 2]})
    root = tmp_path / "dataset"
    path = shard_path(root, "train", 0)
    write_shard(path, rows, {"v": store}, "abc123")
    return frames, rows, root, path, store


def test_round_trip(dataset):
    frames, rows, _, path, _ = dataset
    with open_shard(path) as f:
        assert f["blurry"].shape == (3, 12, 16, 3) and f["blurry"].dtype == np.uint8
        assert f["blurry"].chunks == (1, 12, 16, 3)
        assert f.attrs["format_version"] == FORMAT_VERSION
        assert f.attrs["settings_hash"] == "abc123"
        for i, row in enumerate(rows.itertuples()):
            blurry, sharp = blurry_sharp_pair(frames[row.start : row.start + row.ne])
            np.testing.assert_array_equal(f["blurry"][i], blurry)
            np.testing.assert_array_equal(f["sharp"][i], sharp)
        assert list(f["ne"][()]) == [7, 9, 11]
        assert [v.decode() for v in f["video"][()]] == ["v", "v", "v"]


def test_a_default_shard_has_todays_datasets_and_attributes(dataset):
    with open_shard(dataset[3]) as f:
        assert set(f) == {"blurry", "sharp", *META_COLUMNS}
        assert dict(f.attrs) == {"format_version": FORMAT_VERSION, "settings_hash": "abc123",
                                 "wilddeblur_version": f.attrs["wilddeblur_version"],
                                 "averaging": "plain"}


DEGRADED = Averaging(mode="gamma", noise="poisson_gaussian", saturation="rsblur")
DRAWN = ["noise_shot", "noise_read", "saturation_alpha"]


def test_degraded_shard_records_each_samples_draws(dataset, tmp_path):
    frames, rows, _, _, store = dataset
    path = shard_path(tmp_path, "train", 0)
    write_shard(path, rows, {"v": store}, "abc123", DEGRADED, seed=5)
    with open_shard(path) as f:
        assert set(DRAWN) <= set(f) and set(DRAWN) <= set(OPTIONAL_META)
        assert f.attrs["noise"] == "poisson_gaussian" and f.attrs["saturation"] == "rsblur"
        assert list(f.attrs["saturation_range"]) == [0.25, 1.75]
        for i, row in enumerate(rows.itertuples()):  # (seed, video, start) rebuilds a sample
            rng = np.random.default_rng([5, zlib.crc32(b"v"), row.start])
            drawn = draw_parameters(DEGRADED, rng)
            assert drawn == {c: f[c][i] for c in DRAWN}
            blurry, _ = blurry_sharp_pair(frames[row.start : row.start + row.ne], DEGRADED,
                                          rng, drawn)
            np.testing.assert_array_equal(f["blurry"][i], blurry)
    man = manifest([path], tmp_path)
    assert man["saturation_alpha"].between(0.25, 1.75).all()
    assert man["noise_shot"].nunique() == 3  # drawn per sample


def test_degraded_rebuild_is_identical_and_the_seed_matters(dataset, tmp_path):
    _, rows, _, _, store = dataset
    paths = [tmp_path / name for name in ("a.h5", "b.h5", "c.h5")]
    for path, seed in zip(paths, (5, 5, 6), strict=True):
        write_shard(path, rows, {"v": store}, "abc123", DEGRADED, seed=seed)
    with h5py.File(paths[0]) as a, h5py.File(paths[1]) as b, h5py.File(paths[2]) as c:
        for name in ("blurry", "sharp", *DRAWN):
            assert a[name][()].tobytes() == b[name][()].tobytes()
        assert a["blurry"][()].tobytes() != c["blurry"][()].tobytes()
        assert (a["sharp"][()] == c["sharp"][()]).all()


def test_rebuild_gives_identical_arrays(dataset, tmp_path):
    _, rows, _, path, store = dataset
    again = tmp_path / "again.h5"
    write_shard(again, rows, {"v": store}, "abc123")
    with h5py.File(path) as a, h5py.File(again) as b:
        for name in ("blurry", "sharp", "center"):
            np.testing.assert_array_equal(a[name][()], b[name][()])


def test_failed_write_leaves_no_partial_shard(dataset, tmp_path):
    _, rows, _, _, store = dataset
    bad = rows.copy()
    bad.loc[2, "start"] = 35  # 35 + 11 > 40 frames: the window runs off the video
    out = tmp_path / "bad.h5"
    with pytest.raises(ValueError):
        write_shard(out, bad, {"v": store}, "x")
    assert not out.exists() and not (tmp_path / "bad.h5.tmp").exists()


def test_manifest_and_verify(dataset):
    _, _, root, path, _ = dataset
    man = manifest([path], root)
    assert list(man["index"]) == [0, 1, 2]
    assert set(man["split"]) == {"train"} and set(man["shard"]) == {0}
    csv = root / "manifest.csv"
    man.to_csv(csv, index=False)
    assert verify(csv) == []

    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    assert any("checksum" in p for p in verify(csv))

    path.write_bytes(bytes(data[: len(data) // 2]))
    assert any(str(path) in p for p in verify(csv))

    path.unlink()
    assert verify(csv) == [f"{path}: missing"]


def test_truncated_shard_is_named(dataset):
    _, _, _, path, _ = dataset
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ShardError, match=str(path)):
        open_shard(path)


def wilddeblur(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "wilddeblur", *map(str, args)],
                          capture_output=True, text=True)


@pytest.fixture
def two_shards(dataset):
    """The train shard and a test shard, with their manifest (as `wilddeblur manifest` makes)."""
    _, rows, root, train_path, store = dataset
    test_path = shard_path(root, "test", 0)
    write_shard(test_path, rows.iloc[:2], {"v": store}, "abc123")
    res = wilddeblur("manifest", train_path, test_path, "-o", root / "manifest.csv")
    assert res.returncode == 0, res.stderr
    return root / "manifest.csv", train_path, test_path


def test_verify_command_passes_an_intact_dataset(two_shards, tmp_path):
    res = wilddeblur("verify", two_shards[0], "-o", tmp_path / "verify.txt")
    assert res.returncode == 0, res.stderr
    assert "every shard matches its checksum (2 shards, 5 samples)" in res.stdout
    assert (tmp_path / "verify.txt").read_text() == res.stdout


@pytest.mark.parametrize("damage", ["missing", "truncated", "one byte"])
def test_verify_command_names_the_damaged_shard(two_shards, damage):
    csv, train_path, test_path = two_shards
    if damage == "missing":
        test_path.unlink()
    elif damage == "truncated":
        test_path.write_bytes(test_path.read_bytes()[:-1])
    else:
        data = bytearray(test_path.read_bytes())
        data[len(data) // 2] ^= 0x01
        test_path.write_bytes(bytes(data))
    res = wilddeblur("verify", csv, "-o", csv.with_name("verify.txt"))
    assert res.returncode != 0 and not csv.with_name("verify.txt").exists()
    assert str(test_path) in res.stderr
    assert str(train_path) not in res.stderr  # the intact shard is not blamed
    assert "1 problem(s)" in res.stderr


def test_inspect_dump_writes_the_samples_as_png(two_shards, tmp_path):
    from skimage.io import imread

    _, train_path, _ = two_shards
    res = wilddeblur("inspect", train_path, "--dump", tmp_path / "png", "--limit", "2")
    assert res.returncode == 0, res.stderr
    assert "3 samples" in res.stdout and "settings_hash: abc123" in res.stdout
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [
        "00000-blurry.png", "00000-sharp.png", "00001-blurry.png", "00001-sharp.png"]
    with h5py.File(train_path) as f:
        for i in range(2):
            for name in ("blurry", "sharp"):
                np.testing.assert_array_equal(imread(tmp_path / "png" / f"{i:05d}-{name}.png"),
                                              f[name][i])
