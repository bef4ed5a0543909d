"""Figures: residual table from a model and shards, Fig. 9 numbers and plots, Figs. 2 and 10,
and the dataset statistics from a selection table."""

import numpy as np
import pandas as pd
import pytest
import torch
from skimage.io import imread

from tests.conftest import ArrayFrames, Sharpen
from wilddeblur.dataset.shards import open_shard, shard_path, write_shard
from wilddeblur.report.dataset_figure import dataset_figure, selection_stats
from wilddeblur.report.figures import (
    compute_residuals,
    extremes_figure,
    residual_scatter_figure,
    residual_vs_blur,
    sample_pair_figure,
    shards_by_name,
    zscore,
)


def assert_nontrivial_png(path, min_side=150):
    assert path.is_file() and path.stat().st_size > 5000
    img = imread(path)
    assert min(img.shape[:2]) >= min_side
    assert img[..., :3].std() > 5 and len(np.unique(img[..., :3].reshape(-1, 3), axis=0)) > 50


def rows(start, ne, blur, split):
    n = len(start)
    return pd.DataFrame({"video": f"v-{split}", "start": start, "ne": ne,
                         "center": [s + k // 2 for s, k in zip(start, ne, strict=True)],
                         "flow_mean": 0.3, "flow_p95": 0.5, "flow_p99": 0.6, "flow_max": 0.8,
                         "flow_region": 0.8, "match_err_local": 0.02,
                         "match_err": 0.01, "blur_size": blur, "index": np.arange(n)})


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("figures")
    rng = np.random.default_rng(0)
    # smooth frames drifting right by 1 px a frame: blur grows with Ne
    base = rng.integers(0, 256, (12, 16, 3)).astype(np.float64)
    big = np.kron(base, np.ones((4, 4, 1)))
    frames = np.stack([np.roll(big, k, axis=1) for k in range(60)]).astype(np.uint8)
    store = ArrayFrames(frames)
    root = tmp / "dataset"
    test = rows([0, 8, 20, 34, 46], [7, 11, 13, 9, 13], [2.0, 5.0, 9.5, 3.0, 12.0], "test")
    train = rows([0, 10], [9, 21], [4.0, 7.5], "train")
    paths = {}
    for split, table in (("test", test), ("train", train)):
        paths[split] = shard_path(root, split, 0)
        write_shard(paths[split], table, {f"v-{split}": store}, "h")
    return root, paths, test, train


def test_residuals_from_model_and_shards(dataset):
    root, paths, test, _ = dataset
    res = compute_residuals(Sharpen(), [paths["test"]])
    assert list(res.columns) == ["file", "index", "video", "center", "ne", "blur_size",
                                 "residual_l1"]
    assert list(res["file"]) == ["test/shard-00000.h5"] * 5
    np.testing.assert_allclose(res["blur_size"], test["blur_size"])
    with open_shard(paths["test"]) as f:
        blurry = f["blurry"][2]
    x = torch.from_numpy(blurry).permute(2, 0, 1)[None].float() / 255
    expected = (Sharpen().deblur(x) - x).abs().mean().item()
    assert res.loc[2, "residual_l1"] == pytest.approx(expected, rel=1e-5)
    assert res["residual_l1"].nunique() == 5
    assert len(compute_residuals(Sharpen(), [paths["test"]], max_images=2)) == 2


def test_untrained_deblurnet_predicts_no_residual(dataset):
    from wilddeblur.models.deblurnet_arch import DeblurNet

    res = compute_residuals(DeblurNet().eval(), [dataset[1]["train"]], max_images=1)
    assert res["residual_l1"].iloc[0] < 1e-6  # last layers start at zero


def test_zscores_and_correlation():
    rng = np.random.default_rng(1)
    blur = rng.uniform(1, 20, 30)
    table = pd.DataFrame({"file": "f", "index": range(30), "blur_size": blur,
                          "residual_l1": 0.01 * blur + rng.normal(0, 0.05, 30)})
    out, r = residual_vs_blur(table)
    for col in ("z_residual", "z_blur"):
        assert out[col].mean() == pytest.approx(0, abs=1e-12)
        assert out[col].std(ddof=0) == pytest.approx(1, abs=1e-12)
    assert r == pytest.approx(np.corrcoef(table["residual_l1"], table["blur_size"])[0, 1])
    assert r == pytest.approx(np.corrcoef(out["z_residual"], out["z_blur"])[0, 1])

    flat = table.assign(blur_size=3.0)
    out, r = residual_vs_blur(flat)
    assert np.isnan(r) and (out["z_blur"] == 0).all()
    np.testing.assert_array_equal(zscore([5, 5, 5]), [0, 0, 0])
    with pytest.raises(ValueError, match="blur_size"):
        residual_vs_blur(table.drop(columns="blur_size"))


def test_fig9_scatter_and_fig10_extremes(dataset, tmp_path):
    root, paths, _, _ = dataset
    res = compute_residuals(Sharpen(), [paths["test"]])
    fig9 = residual_scatter_figure(res, tmp_path / "fig9.png")
    assert_nontrivial_png(fig9.path)
    r = np.corrcoef(res["residual_l1"], res["blur_size"])[0, 1]
    assert fig9.stats["pearson_r"] == pytest.approx(r)
    assert f"{r:.3f}" in fig9.caption and fig9.stats["n_images"] == 5
    assert list(fig9.table.columns[-4:]) == ["residual_l1", "blur_size", "z_residual", "z_blur"]

    shards = shards_by_name(paths.values())
    fig10 = extremes_figure(res, shards, Sharpen(), tmp_path / "fig10.png", n=2)
    assert_nontrivial_png(fig10.path)
    shown = fig10.stats["shown"]
    assert [s["end"] for s in shown] == ["highest", "highest", "lowest", "lowest"]
    assert shown[0]["residual_l1"] == res["residual_l1"].max()
    assert shown[2]["residual_l1"] == res["residual_l1"].min()
    one = extremes_figure(res.head(1), shards, Sharpen(), tmp_path / "one.png")
    assert len(one.stats["shown"]) == 1


def test_fig2_sample_pair(dataset, tmp_path):
    _, paths, _, train = dataset
    fig = sample_pair_figure([paths["train"]], tmp_path / "fig2.png")
    assert_nontrivial_png(fig.path)
    assert fig.stats["index"] == int(train["blur_size"].idxmax()) and fig.stats["ne"] == 21
    assert "Ne = 21" in fig.caption and "7.5 px" in fig.caption
    fig = sample_pair_figure([paths["train"]], tmp_path / "fig2b.png",
                             which=("train/shard-00000.h5", 0), crop=16)
    assert fig.stats["ne"] == 9 and fig.stats["crop"][2] == 16
    with pytest.raises(ValueError, match="no sample 7"):
        sample_pair_figure([paths["train"]], tmp_path / "x.png", which=("train/shard-00000.h5", 7))


def selection_table(n_videos=3):
    rng = np.random.default_rng(2)
    frames = []
    for v in range(n_videos):
        n = 20
        kept = rng.random(n) < 0.5
        reason = np.where(kept, "", np.where(rng.random(n) < 0.8, "flow", "matching"))
        frames.append(pd.DataFrame({
            "video": f"video-{v:02d}", "start": np.arange(n) * 10, "ne": 2 * rng.integers(3, 12, n)
            + 1, "kept": kept, "reason": reason, "blur_size": rng.uniform(0, 30, n),
            "split": "test" if v == 0 else "train"}))
    return pd.concat(frames, ignore_index=True)


def test_dataset_figure_from_selection_csv(tmp_path):
    sel = selection_table()
    sel.to_csv(tmp_path / "selection.csv", index=False)
    read = pd.read_csv(tmp_path / "selection.csv")  # '' reasons come back as NaN
    fig = dataset_figure(read, tmp_path / "dataset.png")
    assert_nontrivial_png(fig.path)
    stats = selection_stats(sel)
    assert fig.stats == stats
    assert stats["windows"] == 60 and stats["kept"] == int(sel["kept"].sum())
    assert stats["rejected"] == {"flow": int((sel["reason"] == "flow").sum()),
                                 "matching": int((sel["reason"] == "matching").sum())}
    assert sum(stats["kept_by_split"].values()) == stats["kept"]
    assert f"{stats['kept']} kept" in fig.caption

    many = dataset_figure(selection_table(50), tmp_path / "many.png")  # histogram, not bars
    assert_nontrivial_png(many.path)

    sel.loc[sel["reason"] == "flow", "blur_size"] = np.nan  # windows with skipped flow (flow.skip)
    fig = dataset_figure(sel, tmp_path / "skipped.png")
    assert_nontrivial_png(fig.path)
    assert f"less {stats['rejected']['flow']} rejected windows" in fig.caption


def test_report_figures_writes_everything(dataset, tmp_path):
    import json

    from wilddeblur.dataset.shards import manifest
    from wilddeblur.evaluation.evaluate import evaluate
    from wilddeblur.report.assemble import FIGURE_FILES, figures_markdown, report_figures

    root, paths, _, _ = dataset
    man = manifest([paths["test"], paths["train"]], root)
    shards = shards_by_name(paths.values())
    clock = ("clock", np.repeat(np.linspace(0, 255, 40 * 56).reshape(40, 56, 1), 3, 2)
             .astype(np.uint8))
    out = tmp_path / "figures"
    figs = report_figures(out, selection_table(), man, shards, Sharpen(), method="Sharpen",
                          real_blurry=[clock])
    assert set(figs) == set(FIGURE_FILES)
    for name, file in FIGURE_FILES.items():
        assert (out / file).is_file() and figs[name].path == out / file
    saved = json.loads((out / "figures.json").read_text())
    assert saved["residual_vs_blur"]["stats"]["n_images"] == 5
    computed = pd.read_csv(out / "residuals.csv")

    # evaluate's table with a residual_l1 column: the same figure without recomputing
    per_image = evaluate([paths["test"]], "Sharpen", Sharpen()).merge(
        computed[["file", "index", "residual_l1"]], on=["file", "index"])
    again = report_figures(tmp_path / "again", selection_table(), man, shards, Sharpen(),
                           per_image=per_image, method="Sharpen", real_blurry=[clock])
    assert again["residual_vs_blur"].stats["pearson_r"] == pytest.approx(
        figs["residual_vs_blur"].stats["pearson_r"])
    md = figures_markdown(figs, tmp_path)
    assert "(figures/fig9_residual_vs_blur.png)" in md and figs["extremes"].caption in md

    no_model = report_figures(tmp_path / "plain", selection_table(), man, shards)
    assert set(no_model) == {"dataset", "pair"}
