"""DeblurNetSI data (§4): the kernel bank, the synthetic blur, SI batches and the SI test shard."""

import h5py
import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage, signal

from wilddeblur.dataset.kernels import (
    GRIDS,
    KERNEL_SIZE,
    KernelBankError,
    bank_figure,
    bank_split,
    make_kernels,
    open_kernel_bank,
    split_indices,
    write_kernel_bank,
)
from wilddeblur.dataset.shards import FORMAT_VERSION, manifest, open_shard
from wilddeblur.training.data import batch_loader
from wilddeblur.training.synthetic_blur import (
    MARGIN,
    ShardSharpImages,
    SIBatches,
    blur_valid,
    blur_valid_direct,
    write_si_test_shard,
)

N_BANK = 30


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    return write_kernel_bank(tmp_path_factory.mktemp("kb") / "kernels.h5", N_BANK, seed=5,
                             progress=False)


def fake_shard(path, sharp):
    """A minimal shard of format 1 holding ``sharp`` (N, H, W, 3) uint8 (blurry = sharp)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f["blurry"] = sharp
        f["sharp"] = sharp
        f.attrs["format_version"] = FORMAT_VERSION
    return path


@pytest.fixture(scope="module")
def shard(tmp_path_factory):
    rng = np.random.default_rng(0)
    sharp = rng.integers(0, 256, (3, 100, 120, 3), dtype=np.uint8)
    return fake_shard(tmp_path_factory.mktemp("sh") / "train" / "shard-00000.h5", sharp)


def test_kernels_are_normalised_non_negative_centred_and_inside_the_support(bank):
    with open_kernel_bank(bank) as f:
        k, grid = f["kernels"][()], f["grid"][()]
    assert k.shape == (N_BANK, KERNEL_SIZE, KERNEL_SIZE) and k.dtype == np.float32
    np.testing.assert_allclose(k.sum(axis=(1, 2)), 1, atol=1e-5)
    assert (k >= 0).all()
    for edge in (k[:, 0, :], k[:, -1, :], k[:, :, 0], k[:, :, -1]):
        assert (edge == 0).all()  # stays strictly inside 41x41
    yy, xx = np.mgrid[:KERNEL_SIZE, :KERNEL_SIZE]
    centre = KERNEL_SIZE // 2
    assert np.abs((k * yy).sum((1, 2)) - centre).max() <= 0.5 + 1e-4
    assert np.abs((k * xx).sum((1, 2)) - centre).max() <= 0.5 + 1e-4
    assert sorted(set(grid)) == sorted(GRIDS)  # the three nested grids, i % 3


def test_each_kernel_is_one_connected_path(bank):
    with open_kernel_bank(bank) as f:
        k, grid = f["kernels"][()], f["grid"][()]
    for kernel, g in zip(k, grid, strict=True):
        support = kernel > 1e-6
        _, n = ndimage.label(support, structure=np.ones((3, 3)))
        assert n == 1
        rows, cols = np.nonzero(support)
        assert np.ptp(rows) < g and np.ptp(cols) < g  # within its control grid
        assert support.sum() >= 2  # a trajectory, not a point


def test_bank_is_a_function_of_seed_and_index(bank, tmp_path):
    with open_kernel_bank(bank) as f:
        k = f["kernels"][()]
        assert f.attrs["seed"] == 5 and f.attrs["n"] == N_BANK
    again = write_kernel_bank(tmp_path / "again.h5", N_BANK, seed=5, progress=False)
    with open_kernel_bank(again) as f:
        np.testing.assert_array_equal(f["kernels"][()], k)
    part, _, _ = make_kernels(4, seed=5, start=20)  # kernel i does not depend on n or others
    np.testing.assert_array_equal(part, k[20:24])
    other, _, _ = make_kernels(N_BANK, seed=6)
    assert not any(np.array_equal(a, b) for a, b in zip(other, k, strict=True))


def test_unreadable_bank_is_named(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(KernelBankError, match="bad.h5"):
        open_kernel_bank(bad)


def test_train_and_test_kernel_indices_are_disjoint(bank):
    train, test = bank_split(bank)
    assert (len(train), len(test)) == (27, 3)
    assert not set(train) & set(test) and set(train) | set(test) == set(range(N_BANK))
    assert split_indices(100_000) == (range(0, 90_000), range(90_000, 100_000))
    batches = SIBatches(bank, 8, 16, seed=0, steps=50,
                        shards=[fake_shard(bank.parent / "s.h5",
                                           np.zeros((1, 60, 60, 3), np.uint8))])
    used = {d["kernel"] for step in range(50) for d in batches.plan(step)}
    assert used <= set(train) and len(used) > len(train) // 2


def test_blurring_a_delta_gives_the_kernel():
    rng = np.random.default_rng(1)
    kernel = rng.random((KERNEL_SIZE, KERNEL_SIZE)).astype(np.float32)
    kernel /= kernel.sum()
    crop = 48
    x = torch.zeros(1, 3, crop + MARGIN, crop + MARGIN)
    x[..., 44, 46] = 1.0
    out = blur_valid(x, torch.from_numpy(kernel)[None])
    assert out.shape == (1, 3, crop, crop)
    # a true convolution: the kernel appears as it is (not mirrored), at the delta minus 40
    torch.testing.assert_close(out[0, :, 4:45, 6:47], torch.from_numpy(kernel).expand(3, -1, -1),
                               atol=1e-6, rtol=0)
    assert out[0, :, 4:45, 6:47].sum() == pytest.approx(3.0, abs=1e-4)
    assert out.abs().sum() == pytest.approx(3.0, abs=1e-3)


def test_fft_blur_equals_direct_and_scipy():
    rng = np.random.default_rng(2)
    x = torch.from_numpy(rng.random((2, 3, 70, 64)).astype(np.float32))
    k = torch.from_numpy(rng.random((2, KERNEL_SIZE, KERNEL_SIZE)).astype(np.float32))
    k /= k.sum((1, 2), keepdim=True)
    fft = blur_valid(x, k)
    torch.testing.assert_close(fft, blur_valid_direct(x, k), atol=1e-5, rtol=0)
    ref = signal.convolve2d(x[1, 2].double().numpy(), k[1].double().numpy(), mode="valid")
    np.testing.assert_allclose(fft[1, 2].numpy(), ref, atol=1e-5)


def test_si_batches_are_deterministic_per_step(bank, shard, tmp_path):
    folder = tmp_path / "photos" / "sub"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 256, (90, 80, 3), dtype=np.uint8)).save(folder / "a.png")
    Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(folder / "tiny.jpg")
    a = SIBatches(bank, 4, 16, seed=1, steps=10, shards=[shard], image_dirs=[tmp_path / "photos"])
    b = SIBatches(bank, 4, 16, seed=1, steps=10, shards=[shard], image_dirs=[tmp_path / "photos"])
    assert len(a.files) == 1 and len(a.index) == 4  # 3 shard images + a.png; tiny.jpg skipped
    for step in (0, 7):
        torch.testing.assert_close(a[step], b[step], atol=0, rtol=0)
    blurry, sharp = a[3]
    assert blurry.shape == sharp.shape == (4, 3, 16, 16) and blurry.dtype == torch.float32
    assert 0 <= blurry.min() and blurry.max() <= 1
    assert not torch.equal(a[0][0], a[1][0])
    assert not torch.equal(a[0][0], SIBatches(bank, 4, 16, 2, 10, shards=[shard])[0][0])
    assert {d["source"] for s in range(10) for d in a.plan(s)} == {-1, 0}  # both sources used


def test_worker_processes_give_the_same_batches(bank, shard):
    ds = SIBatches(bank, 2, 16, seed=1, steps=4, shards=[shard])
    ds[0]  # opens HDF5 handles in this process: they must not travel to the worker
    got = list(batch_loader(ds, start_step=2, workers=1))
    assert len(got) == 2
    for step, (blurry, sharp) in zip((2, 3), got, strict=True):
        torch.testing.assert_close((blurry, sharp), ds[step], atol=0, rtol=0)


def test_si_batch_is_the_blurred_crop_plus_noise_of_the_asked_level(bank, tmp_path):
    grey = fake_shard(tmp_path / "grey.h5", np.full((2, 80, 80, 3), 128, np.uint8))
    blurry, sharp = SIBatches(bank, 6, 32, seed=0, steps=1, shards=[grey], noise_sigma=0.01)[0]
    torch.testing.assert_close(sharp, torch.full_like(sharp, 128 / 255))
    noise = (blurry - 128 / 255).double()
    assert noise.mean().abs() < 1e-3
    assert noise.std().item() == pytest.approx(0.01, rel=0.05)

    rand = np.random.default_rng(5).integers(0, 256, (2, 70, 70, 3), dtype=np.uint8)
    ds = SIBatches(bank, 2, 16, seed=4, steps=1, shards=[fake_shard(tmp_path / "r.h5", rand)],
                   noise_sigma=0.0)
    blurry, sharp = ds[0]
    for d, b, s in zip(ds.plan(0), blurry, sharp, strict=True):
        crop = ds._crop(d).astype(np.float64) / 255
        k = ds.kernel(d["kernel"]).astype(np.float64)
        ref = np.stack([signal.convolve2d(crop[..., c], k, mode="valid") for c in range(3)])
        np.testing.assert_allclose(b.numpy(), ref, atol=1e-5)
        np.testing.assert_allclose(s.numpy(), crop[20:36, 20:36].transpose(2, 0, 1), atol=1e-6)


def test_si_batches_refuse_what_cannot_work(bank, shard):
    with pytest.raises(ValueError, match="multiple of 4"):
        SIBatches(bank, 2, 18, seed=0, steps=1, shards=[shard])
    with pytest.raises(ValueError, match="margin"):
        SIBatches(bank, 2, 64, seed=0, steps=1, shards=[shard])  # 104 > 100
    with pytest.raises(ValueError, match="no sharp image"):
        SIBatches(bank, 2, 16, seed=0, steps=1)


def test_si_test_shard_uses_held_out_kernels_and_reads_as_a_shard(bank, shard, tmp_path):
    images = ShardSharpImages([shard])
    out = tmp_path / "si" / "test" / "shard-00000.h5"
    sources = [images.source(j) for j in range(len(images))]
    write_si_test_shard(out, images, bank, seed=0, sources=sources)
    _, test = bank_split(bank)
    with open_shard(out) as f:
        assert f["blurry"].shape == f["sharp"].shape == (3, 100 - MARGIN, 120 - MARGIN, 3)
        assert f["blurry"].dtype == np.uint8 and f.attrs["kind"] == "si"
        assert set(f["kernel_index"][()]) <= set(test)
        with h5py.File(shard) as src:
            np.testing.assert_array_equal(f["sharp"][1], src["sharp"][1][20:-20, 20:-20])
        first = f["blurry"][()]
    man = manifest([out], tmp_path / "si")  # the dataset tools read it like a WILD shard
    assert list(man["split"].unique()) == ["test"] and len(man) == 3
    write_si_test_shard(out, images, bank, seed=0, sources=sources)
    with open_shard(out) as f:
        np.testing.assert_array_equal(f["blurry"][()], first)  # deterministic rebuild
    with pytest.raises(ValueError, match="training kernels"):
        write_si_test_shard(tmp_path / "leak.h5", images, bank, seed=0, kernel_indices=[0, 29])
    assert not (tmp_path / "leak.h5").exists() and not list(tmp_path.glob("*.tmp"))


def test_bank_figure(bank, tmp_path):
    png = bank_figure(bank, tmp_path / "kernels.png", n=8, ncols=4)
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size[0] > 100


def test_sharp_images_of_mixed_sizes_are_centre_cropped_to_one(tmp_path):
    a = np.arange(2 * 60 * 70 * 3, dtype=np.uint32).reshape(2, 60, 70, 3).astype(np.uint8)
    b = np.zeros((1, 64, 66, 3), np.uint8)
    images = ShardSharpImages([fake_shard(tmp_path / "a.h5", a), fake_shard(tmp_path / "b.h5", b)])
    assert len(images) == 3 and {images[j].shape for j in range(3)} == {(60, 66, 3)}
    np.testing.assert_array_equal(images[1], a[1][:, 2:68])
    assert len(ShardSharpImages([tmp_path / "a.h5"], max_images=1)) == 1
