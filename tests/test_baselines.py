"""Classical baselines of Table 2: the non-blind oracle, L0 blind deblurring, their scoring."""

import h5py
import numpy as np
import pandas as pd
import pytest
import torch
from skimage import data as skdata

from wilddeblur.dataset.kernels import open_kernel_bank, write_kernel_bank
from wilddeblur.dataset.shards import FORMAT_VERSION, manifest, split_shards
from wilddeblur.evaluation.baselines import protocol_images, run_baseline
from wilddeblur.evaluation.baselines.kernel_ops import kernel_ncc
from wilddeblur.evaluation.baselines.l0 import L0Params, estimate_kernel, l0_deblur
from wilddeblur.evaluation.baselines.nonblind import (
    KernelOracle,
    hyper_laplacian_deconvolve,
    periodic_pad,
    wiener_deconvolve,
)
from wilddeblur.evaluation.evaluate import evaluate
from wilddeblur.evaluation.metrics import psnr
from wilddeblur.report.tables import summarise
from wilddeblur.training.synthetic_blur import blur_valid, write_si_test_shard

COLUMNS = ["method", "file", "index", "video", "center", "psnr", "ssim", "psnr_shift",
           "psnr_float"]


def photo(name: str, box=(slice(0, 200), slice(100, 360))) -> np.ndarray:
    """A real photo from scikit-image as float RGB in [0, 1] (grey ones repeated)."""
    img = getattr(skdata, name)()[box].astype(np.float64) / 255
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img


def line_kernel(size: int, length: float, angle_deg: float) -> np.ndarray:
    """A linear-motion kernel: a segment through the centre, splatted bilinearly."""
    k = np.zeros((size, size))
    t = np.linspace(-length / 2, length / 2, 200)
    ys = size // 2 + t * np.sin(np.deg2rad(angle_deg))
    xs = size // 2 + t * np.cos(np.deg2rad(angle_deg))
    for y, x in zip(ys, xs, strict=True):
        y0, x0 = int(np.floor(y)), int(np.floor(x))
        fy, fx = y - y0, x - x0
        k[y0: y0 + 2, x0: x0 + 2] += np.outer([1 - fy, fy], [1 - fx, fx])
    return k / k.sum()


def blur(image: np.ndarray, kernel: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """'Valid' blur of an (H, W, 3) image as the SI test set makes it, plus Gaussian noise."""
    x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]
    out = blur_valid(x, torch.from_numpy(kernel)[None])[0].numpy().transpose(1, 2, 0)
    return np.clip(out + np.random.default_rng(seed).normal(0, sigma, out.shape), 0, 1)


@pytest.fixture(scope="module")
def si_set(tmp_path_factory):
    """An SI test shard of 4 real photos (200×280 → 160×240), its bank and its manifest."""
    root = tmp_path_factory.mktemp("si")
    bank = write_kernel_bank(root / "kernels.h5", 20, seed=0, test_fraction=0.5,
                             progress=False)
    box = (slice(0, 200), slice(100, 380))
    sharp = [np.round(photo(n, box) * 255).astype(np.uint8)
             for n in ("astronaut", "coffee", "chelsea", "camera")]
    shard = write_si_test_shard(root / "test" / "shard-00000.h5", sharp, bank, seed=1,
                                sources=[(f"photo{j}", j) for j in range(len(sharp))])
    manifest([shard], root).to_csv(root / "manifest.csv", index=False)
    return root / "manifest.csv", bank, shard


def test_deconvolution_follows_the_blur_valid_convention():
    """The true kernel restores better than its mirror image (a flipped-convention bug)."""
    img = photo("camera")
    k = line_kernel(15, 9, 30)
    k[7:, 7:] *= 3  # asymmetric: heavier at one end
    k /= k.sum()
    y = blur(img, k, 0.0)
    s = img[7:-7, 7:-7]
    right = psnr(np.clip(wiener_deconvolve(y, k, noise_sigma=0.002), 0, 1), s, 1.0)
    mirror = psnr(np.clip(wiener_deconvolve(y, k[::-1, ::-1], noise_sigma=0.002), 0, 1), s, 1.0)
    assert right > mirror + 3
    assert right > psnr(y, s, 1.0) + 5


def test_periodic_pad_keeps_the_image_and_wraps_continuously():
    img = photo("coffee")[:50, :70]
    out = periodic_pad(img, 15)
    assert out.shape[0] >= 65 and out.shape[1] >= 85 and out.shape[2] == 3
    np.testing.assert_array_equal(out[:50, :70], img)
    rolled = np.roll(np.roll(out, 1, 0), 1, 1)  # every pixel next to its wrapped neighbour
    assert np.abs(out - rolled).max() <= np.abs(np.diff(img, axis=0)).max() + np.abs(
        np.diff(img, axis=1)).max() + 1e-9


def test_oracle_raises_psnr_well_above_the_blurry_input(si_set):
    manifest_csv, bank, shard = si_set
    shards = split_shards(manifest_csv, "test")
    blurry = evaluate(shards, "blurry")
    with KernelOracle(bank) as oracle:
        wiener = evaluate(shards, "oracle-wiener", restore=oracle)
    with KernelOracle(bank, "hyper-laplacian") as oracle:
        hl = evaluate(shards, "oracle-hyper-laplacian", restore=oracle)
    assert list(wiener.columns) == list(blurry.columns) and set(COLUMNS) <= set(blurry.columns)
    gain = wiener["psnr"] - blurry["psnr"]
    assert gain.min() > 2 and gain.mean() > 3.5, gain.tolist()
    assert (hl["psnr"] - blurry["psnr"]).mean() > 4
    with h5py.File(shard) as f, open_kernel_bank(bank) as kb:  # it used each image's own kernel
        j = int(f["kernel_index"][0])
        assert np.array_equal(KernelOracle(bank).kernel_for(shard, 0), kb["kernels"][j])


def check_blind_deblur(deblur, name: str, min_ncc: float, min_gain_db: float) -> None:
    """``deblur(blurry, kernel_size=15) -> (restored, kernel)`` on photo ``name`` blurred by a
    9 px line at 30° (15×15 support, noise σ 0.005): the kernel is a normalised 15×15 estimate
    with at least ``min_ncc`` cross-correlation with the true one, and the restored image gains
    more than ``min_gain_db`` over the blurry input."""
    img = photo(name)
    k = line_kernel(15, 9, 30)
    y = blur(img, k, 0.005)
    restored, estimate = deblur(y, kernel_size=15)
    s = img[7:-7, 7:-7]
    assert estimate.shape == (15, 15) and estimate.min() >= 0
    assert estimate.sum() == pytest.approx(1.0)
    assert kernel_ncc(estimate, k) >= min_ncc, name
    assert psnr(np.clip(restored, 0, 1), s, 1.0) > psnr(y, s, 1.0) + min_gain_db, name


def test_l0_estimates_a_linear_motion_kernel_and_improves_psnr():
    for name in ("astronaut", "camera"):
        check_blind_deblur(l0_deblur, name, min_ncc=0.5, min_gain_db=1)


def test_run_baseline_writes_the_evaluate_table(si_set, tmp_path, capsys):
    manifest_csv, bank, _ = si_set
    table = run_baseline(manifest_csv, "oracle", tmp_path / "oracle.csv", bank=bank)
    assert list(table.columns) == list(evaluate(split_shards(manifest_csv, "test"), "b").columns)
    assert set(COLUMNS) <= set(table.columns) and set(table["method"]) == {"oracle-wiener"}
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "oracle.csv"), table,
                                  check_dtype=False)
    l0 = run_baseline(manifest_csv, "l0", tmp_path / "l0.csv", max_images=1,
                      kernels_out=tmp_path / "k.npz", params={"kernel_size": 15})
    assert len(l0) == 1 and l0["method"][0] == "uniform L0 (after Xu et al. 2013)"
    saved = np.load(tmp_path / "k.npz")
    assert saved["kernels"].shape == (1, 15, 15) and list(saved["index"]) == [0]
    assert "s/image" in capsys.readouterr().out


def test_protocol_images_are_the_reports_test_15(si_set):
    manifest_csv, _, _ = si_set
    shards = split_shards(manifest_csv, "test")
    per_image = evaluate(shards, "blurry")
    n = 3
    chosen = evaluate(shards, "blurry", images=protocol_images(shards, n, seed=7))
    table = summarise(per_image, seed=7, n_protocol=n)
    row = table[table["split"] == f"test-{n}"].iloc[0]
    assert row["n_images"] == n == len(chosen)
    assert row["psnr"] == pytest.approx(chosen["psnr"].mean())


def test_evaluate_hook_rejects_model_and_restore_together(si_set):
    shards = split_shards(si_set[0], "test")
    with pytest.raises(ValueError, match="not both"):
        evaluate(shards, "x", model=torch.nn.Identity(), restore=lambda b, p, i: b / 255)


def test_oracle_needs_an_si_shard(si_set, tmp_path):
    _, bank, _ = si_set
    wild = tmp_path / "test" / "shard-00000.h5"
    wild.parent.mkdir()
    with h5py.File(wild, "w") as f:
        f["blurry"] = f["sharp"] = np.zeros((1, 64, 64, 3), np.uint8)
        f.attrs["format_version"] = FORMAT_VERSION
    with KernelOracle(bank) as oracle, pytest.raises(ValueError, match="kernel_index"):
        oracle(np.zeros((64, 64, 3), np.uint8), wild, 0)


@pytest.mark.parametrize(("call", "name"), [
    (lambda: L0Params(kernel_size=24), "kernel_size"),
    (lambda: L0Params(lambda_grad=-1), "lambda_grad"),
    (lambda: L0Params(scale_ratio=1.5), "scale_ratio"),
    (lambda: L0Params(iterations=0), "iterations"),
    (lambda: L0Params(final_alpha=2), "final_alpha"),
    (lambda: l0_deblur(np.zeros((64, 64)), no_such_thing=1), "no_such_thing"),
    (lambda: estimate_kernel(np.zeros((20, 20))), "kernel_size"),
    (lambda: wiener_deconvolve(np.zeros((8, 8)), np.ones((3, 3)), noise_sigma=0),
     "noise_sigma"),
    (lambda: wiener_deconvolve(np.zeros((8, 8)), np.ones((2, 3))), "kernel"),
    (lambda: hyper_laplacian_deconvolve(np.zeros((8, 8)), np.ones((3, 3)), lam=0), "lam"),
    (lambda: hyper_laplacian_deconvolve(np.zeros((8, 8)), np.ones((3, 3)), alpha=1.5),
     "alpha"),
    (lambda: hyper_laplacian_deconvolve(np.zeros((8, 8)), np.ones((3, 3)), beta_rate=1),
     "beta_rate"),
    (lambda: protocol_images([], 0, 0), "protocol_images"),
])
def test_parameter_errors_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_run_baseline_errors_name_the_problem(si_set, tmp_path):
    manifest_csv, bank, _ = si_set
    with pytest.raises(ValueError, match="method"):
        run_baseline(manifest_csv, "richardson-lucy", tmp_path / "x.csv")
    with pytest.raises(ValueError, match="bank"):
        run_baseline(manifest_csv, "oracle", tmp_path / "x.csv")
    with pytest.raises(ValueError, match="params"):
        run_baseline(manifest_csv, "l0", tmp_path / "x.csv", params=[1])
    with pytest.raises(ValueError, match="no_such"):
        run_baseline(manifest_csv, "oracle", tmp_path / "x.csv", bank=bank,
                     params={"no_such": 1})
    with pytest.raises(ValueError, match="gradient_sigma"):
        run_baseline(manifest_csv, "oracle", tmp_path / "x.csv", bank=bank,
                     params={"gradient_sigma": -1})
    with pytest.raises(ValueError, match="deconvolution"):
        run_baseline(manifest_csv, "oracle", tmp_path / "x.csv", bank=bank,
                     params={"deconvolution": "richardson-lucy"})
    with pytest.raises(ValueError, match="split"):
        run_baseline(manifest_csv, "oracle", tmp_path / "x.csv", split="train")
    assert not (tmp_path / "x.csv").exists()
