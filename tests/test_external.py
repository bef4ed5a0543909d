"""External test sets: GoPro layout and list files, errors that name the file, evaluation with
evaluate's metrics and columns, and the real-blurry-photo panel."""

import numpy as np
import pandas as pd
import pytest
import torch
from skimage.io import imread, imsave

from tests.conftest import ArrayFrames, Sharpen
from wilddeblur.dataset.shards import shard_path, write_shard
from wilddeblur.evaluation.evaluate import evaluate
from wilddeblur.evaluation.external import (
    ExternalSetError,
    area_downsample,
    evaluate_external,
    gopro_pairs,
    list_pairs,
    load_pairs,
    read_rgb,
    score_image,
    summarise_external,
)
from wilddeblur.evaluation.metrics import psnr
from wilddeblur.report.real_blurry import (
    demo_real_blurry,
    real_blurry_images,
    real_blurry_panel,
)
from wilddeblur.report.tables import summarise


def image(seed, h=24, w=32):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def save(path, img):
    path.parent.mkdir(parents=True, exist_ok=True)
    imsave(path, img, check_contrast=False)


@pytest.fixture
def gopro(tmp_path):
    root = tmp_path / "GOPRO_Large"
    for s, seq in enumerate(["GOPR0384_11_00", "GOPR0385_11_01"]):
        for k in range(2):
            name = f"{k + 1:06d}.png"
            save(root / "test" / seq / "blur" / name, image(10 * s + k))
            save(root / "test" / seq / "sharp" / name, image(100 + 10 * s + k))
    return root


def test_gopro_pairs_match_by_name(gopro):
    pairs = gopro_pairs(gopro)
    assert [p.name for p in pairs] == ["GOPR0384_11_00/000001.png", "GOPR0384_11_00/000002.png",
                                       "GOPR0385_11_01/000001.png", "GOPR0385_11_01/000002.png"]
    for p in pairs:
        assert p.blurry.name == p.sharp.name and p.blurry.parent.name == "blur"
        assert p.sharp.parent.name == "sharp" and p.blurry.parent.parent.name == p.group
    name, blurry, sharp = next(load_pairs(pairs[2:]))
    assert name == "GOPR0385_11_01/000001.png"
    np.testing.assert_array_equal(blurry, image(10))
    np.testing.assert_array_equal(sharp, image(110))


def test_gopro_errors_name_the_path(gopro, tmp_path):
    missing = gopro / "test" / "GOPR0385_11_01" / "sharp" / "000002.png"
    missing.unlink()
    with pytest.raises(ExternalSetError, match=str(missing)):
        gopro_pairs(gopro)
    save(missing, image(0, 10, 10))  # back, but at the wrong size
    with pytest.raises(ExternalSetError, match="000002.png is 32×24 but .*000002.png is 10×10"):
        list(load_pairs(gopro_pairs(gopro)))
    extra = gopro / "test" / "GOPR0384_11_00" / "sharp" / "000009.png"
    save(extra, image(0))
    with pytest.raises(ExternalSetError, match="blur/000009.png: missing"):
        gopro_pairs(gopro)
    with pytest.raises(ExternalSetError, match=str(gopro / "train")):
        gopro_pairs(gopro, split="train")
    with pytest.raises(ExternalSetError, match="blur_gamma: missing"):
        gopro_pairs(gopro, blur_dir="blur_gamma")
    with pytest.raises(ExternalSetError, match="no such folder"):
        gopro_pairs(tmp_path / "nowhere")


@pytest.fixture
def realblur(tmp_path):
    root = tmp_path / "RealBlur"
    lines = ["# RealBlur-J test list", ""]
    for s in (230, 231):
        for k in (1, 2):
            gt = f"RealBlur-J/scene{s}/gt/gt_{k}.png"
            blur = f"RealBlur-J/scene{s}/blur/blur_{k}.png"
            save(root / gt, image(s + k))
            save(root / blur, image(1000 + s + k))
            lines.append(f"{gt} {blur}")
    listing = root / "RealBlur_J_test_list.txt"
    listing.write_text("\n".join(lines) + "\n")
    return root, listing


def test_list_pairs(realblur, tmp_path):
    root, listing = realblur
    pairs = list_pairs(listing)
    assert len(pairs) == 4
    assert pairs[0].name == "RealBlur-J/scene230/blur/blur_1.png" and pairs[0].group == "scene230"
    assert pairs[0].sharp == root / "RealBlur-J/scene230/gt/gt_1.png"
    _, blurry, sharp = next(load_pairs(pairs))
    np.testing.assert_array_equal(blurry, image(1231))
    np.testing.assert_array_equal(sharp, image(231))
    # the same list elsewhere, with an explicit root, and the other column order
    moved = tmp_path / "lists" / "swapped.txt"
    moved.parent.mkdir()
    moved.write_text("\n".join(" ".join(line.split()[::-1]) for line in
                               listing.read_text().splitlines() if line and line[0] != "#"))
    assert list_pairs(moved, root=root, order="blur-gt") == pairs


def test_list_errors_name_file_and_line(realblur):
    root, listing = realblur
    (root / "RealBlur-J/scene231/gt/gt_2.png").unlink()
    with pytest.raises(ExternalSetError, match=rf"{listing}:6: .*scene231/gt/gt_2.png"):
        list_pairs(listing)
    listing.write_text("a.png\n")
    with pytest.raises(ExternalSetError, match=rf"{listing}:1: expected 2 paths"):
        list_pairs(listing)
    listing.write_text("# nothing\n")
    with pytest.raises(ExternalSetError, match="lists no pair"):
        list_pairs(listing)
    with pytest.raises(ExternalSetError, match="no such list file"):
        list_pairs(root / "missing.txt")


def test_read_rgb_and_area_downsample(tmp_path):
    gray = image(3)[..., 0]
    save(tmp_path / "g.png", gray)
    rgb = read_rgb(tmp_path / "g.png")
    assert rgb.shape == (24, 32, 3) and (rgb[..., 0] == rgb[..., 2]).all()
    rgba = np.dstack([image(4), np.full((24, 32), 255, np.uint8)])
    save(tmp_path / "a.png", rgba)
    np.testing.assert_array_equal(read_rgb(tmp_path / "a.png"), rgba[..., :3])
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ExternalSetError, match="bad.png"):
        read_rgb(tmp_path / "bad.png")
    img = image(5, 7, 9)
    small = area_downsample(img, 3)
    assert small.shape == (2, 3, 3)
    assert small[1, 2, 0] == np.rint(img[3:6, 6:9, 0].mean())


def test_evaluate_external_columns_and_metrics(gopro):
    pairs = gopro_pairs(gopro)
    blurry = evaluate_external(pairs, "blurry", set_name="gopro")
    model = evaluate_external(pairs, "Sharpen", Sharpen(), set_name="gopro", max_images=3)
    for col in ["method", "file", "index", "video", "center", "psnr", "ssim", "psnr_shift",
                "psnr_float", "set"]:
        assert col in blurry.columns
    assert len(blurry) == 4 and len(model) == 3
    assert blurry.loc[0, "psnr"] == pytest.approx(psnr(image(0), image(100)))
    assert blurry["residual_l1"].max() < 1e-6 and model["residual_l1"].min() > 0.01
    table = summarise(pd.concat([blurry, model]), n_protocol=2)
    assert set(table["method"]) == {"blurry", "Sharpen"}
    ext = summarise_external(pd.concat([blurry, model]))
    assert list(ext["method"]) == ["blurry", "Sharpen"] and list(ext["n_images"]) == [4, 3]
    assert ext.loc[0, "psnr"] == pytest.approx(blurry["psnr"].mean())
    half = evaluate_external(pairs[:1], "blurry", factor=2)
    assert half.loc[0, "psnr"] == pytest.approx(
        psnr(area_downsample(image(0), 2), area_downsample(image(100), 2)))


def reference_scores(out_float: np.ndarray, sharp: np.ndarray) -> dict[str, float]:
    """The metric columns by their definitions (wilddeblur.evaluation.metrics' docstring), written
    out."""
    from skimage.metrics import structural_similarity

    out = np.floor(np.clip(out_float.astype(np.float64), 0, 1) * 255 + 0.5)  # half up
    ref = sharp.astype(np.float64)

    def db(a, b, peak=255.0):
        return 10 * np.log10(peak**2 / np.mean((a - b) ** 2))

    h, w = ref.shape[:2]
    shifts = [db(out[3 + dy : h - 3 + dy, 3 + dx : w - 3 + dx], ref[3 : h - 3, 3 : w - 3])
              for dy in range(-3, 4) for dx in range(-3, 4)]
    return {"psnr": db(out, ref),
            "ssim": structural_similarity(out.astype(np.uint8), sharp, data_range=255,
                                          channel_axis=2, gaussian_weights=True, sigma=1.5,
                                          use_sample_covariance=False),
            "psnr_shift": max(shifts),
            "psnr_float": db(np.clip(out_float, 0, 1), ref / 255, 1.0)}


def test_score_image_and_evaluate_follow_the_metric_definitions(tmp_path):
    frames = np.stack([np.roll(image(7, 16, 24), k // 6, axis=1) for k in range(12)])
    store = ArrayFrames(frames)
    table = pd.DataFrame({"video": "v", "start": [0], "ne": [9], "center": [4],
                          "flow_mean": 0.1, "flow_p95": 0.2, "flow_p99": 0.3, "flow_max": 0.4,
                          "flow_region": 0.4, "match_err_local": 0.02,
                          "match_err": 0.01, "blur_size": 1.0, "index": [0]})
    path = shard_path(tmp_path / "ds", "test", 0)
    write_shard(path, table, {"v": store}, "h")
    from wilddeblur.dataset.shards import open_shard

    with open_shard(path) as f:
        blurry, sharp = f["blurry"][0], f["sharp"][0]
    x = torch.from_numpy(blurry).permute(2, 0, 1)[None].float() / 255
    out_float = Sharpen().deblur(x)[0].permute(1, 2, 0).numpy()  # the model, applied here
    assert out_float.min() < 0 and out_float.max() > 1  # the clamping matters
    want = reference_scores(out_float, sharp)
    assert 5 < want["psnr"] < 40 and want["psnr_shift"] > want["psnr"]  # nothing degenerate
    ours = score_image(out_float, sharp)
    theirs = evaluate([path], "Sharpen", Sharpen()).iloc[0]
    for key, value in want.items():
        assert ours[key] == pytest.approx(value, rel=1e-6), key
        assert theirs[key] == pytest.approx(value, rel=1e-5), key


def test_real_blurry_panel(tmp_path):
    name, clock = demo_real_blurry()
    assert clock.shape == (300, 400, 3) and clock.dtype == np.uint8
    assert (clock[..., 0] == clock[..., 1]).all() and clock.std() > 10
    folder = tmp_path / "photos"
    save(folder / "b.png", image(1, 60, 90))
    save(folder / "a.jpg", image(2, 50, 50))
    (folder / "notes.txt").write_text("x")
    images = real_blurry_images(folder)
    assert [n for n, _ in images] == ["a.jpg", "b.png"]
    fig = real_blurry_panel(images + [(name, clock)], Sharpen(), tmp_path / "real.png",
                            max_side=200)
    assert fig.path.is_file() and min(imread(fig.path).shape[:2]) > 300
    assert [s["factor"] for s in fig.stats["images"]] == [1, 1, 2]
    (folder / "a.jpg").unlink()
    (folder / "b.png").unlink()
    with pytest.raises(ExternalSetError, match=str(folder)):
        real_blurry_images(folder)
    assert real_blurry_images(None)[0][0] == "skimage-clock"
