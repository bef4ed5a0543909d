"""Which way of building pairs trains the better deblurring network, judged on blur as a camera
makes it (issue 27, after RSBlur's ablation, Rim et al. ECCV 2022): the same NAFNet trained on
pairs built from the same rendered clips by the workflow's own stages, one way per variant,
then evaluated on test pairs whose blurry image is the true continuous exposure of the test
scenes (rendered densely over each window, other photos than training's):

    python benchmarks/realism_ablation.py --work DIR [--variants plain,interp4,...] [--steps N]

Variants: ``plain`` (the paper: k = 1, plain mean), ``interp4`` (interpolate.factor 4),
``interp4-gamma`` (k = 4, mean in linear light through x^2.2), ``interp4-realistic`` (k = 4,
linear light, RSBlur's saturation and Poisson–Gaussian noise). Test sets: ``codes`` (the
exposure averaged in 8-bit codes, as the paper averages), ``linear`` (integrated in linear
light through x^2.2, as a camera with that response), ``linear+noise`` (that, with RSBlur's
Poisson–Gaussian noise). Everything is cached in ``--work``: a rerun with more variants reuses
the clips, flow tables, datasets and networks. Prints one row per variant (training pairs, the
input's and the network's mean PSNR on each test set, the gains), then the linear test pairs
grouped by the input's PSNR.
"""

from __future__ import annotations

import argparse
import os
import zlib
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")  # before tqdm is imported

import h5py
import numpy as np
import pandas as pd

from wilddeblur.dataset.average import Averaging
from wilddeblur.dataset.select import SelectionSettings
from wilddeblur.dataset.shards import FORMAT_VERSION, META_COLUMNS
from wilddeblur.dataset.stages import average, select, write_manifest
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.flow.stages import flow_stage
from wilddeblur.video.demo import TEST_PHOTOS, TRAIN_PHOTOS
from wilddeblur.video.exposure import StretchScene, render_stretch_clip, stretch_scene
from wilddeblur.video.stages import probe_video

VARIANTS = {
    "plain": (1, Averaging()),
    "interp4": (4, Averaging()),
    "interp4-gamma": (4, Averaging(mode="gamma")),
    "interp4-realistic": (4, Averaging(mode="gamma", noise="poisson_gaussian",
                                       saturation="rsblur")),
}
CALM, FAST = (0.3, 0.8), (1.5, 3.0)  # px per frame (downsampled) of the stretches
CAMERA_GAMMA = 2.2  # the test camera's response: light is integrated through x^2.2


def scene_for(name: str, seconds: float) -> StretchScene:
    """A clip of alternating calm and fast stretches of 0.4 s over photos drawn by name
    (training photos for train-*, the demo's test photos for test-*)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    pool = list(TEST_PHOTOS if name.startswith("test") else TRAIN_PHOTOS)
    photos = [str(p) for p in rng.choice(pool, size=3, replace=len(pool) < 3)]
    n = max(2, round(seconds / 0.4))
    stretches = [(float(rng.uniform(*(FAST if i % 2 else CALM))), 0.4) for i in range(n)]
    return stretch_scene(stretches, photos, str(rng.choice(pool)), seed=int(rng.integers(1 << 16)))


def test_shard(scene: StretchScene, name: str, path: Path, windows: int, seed: int,
               gamma: float | None = None) -> None:
    """Test pairs of ``scene``: blurry = the true exposure of [t0 − 1/2, t_end + 1/2] (8
    renders a frame; with ``gamma``, integrated in linear light through x^gamma), sharp = the
    frame at the window's centre, both area-downsampled ×3."""
    import cv2

    from wilddeblur.video.downsample import downsampled_size

    rng = np.random.default_rng(seed)
    size = downsampled_size(*scene.size, scene.factor)
    blurry, sharp, meta = [], [], []
    for start in np.linspace(0, scene.frames - 24, windows).round().astype(int):
        ne = 2 * int(rng.integers(3, 12)) + 1
        t0, t1 = start - 0.5, start + ne - 0.5
        blurry.append(np.clip(np.floor(scene.exposure(t0, t1, 8 * ne, gamma) + 0.5), 0, 255))
        sharp.append(cv2.resize(scene.render(start + ne // 2), size, interpolation=cv2.INTER_AREA))
        meta.append((start, ne))
    with h5py.File(path, "w") as f:
        f["blurry"] = np.stack(blurry).astype(np.uint8)
        f["sharp"] = np.stack(sharp)
        for col in META_COLUMNS:
            if col == "video":
                f.create_dataset(col, data=[name] * len(meta), dtype=h5py.string_dtype())
            elif col in ("start", "ne"):
                f[col] = [m[("start", "ne").index(col)] for m in meta]
            elif col == "center":
                f[col] = [s + n // 2 for s, n in meta]
            else:
                f[col] = np.full(len(meta), np.nan)
        f.attrs.update({"format_version": FORMAT_VERSION, "settings_hash": "true-exposure"})


def noisy_copy(path: Path, out: Path, seed: int) -> None:
    """``path`` with RSBlur's Poisson–Gaussian noise on each blurry image, in linear light
    through x^2.2 (the parameters drawn per image, as the ``interp4-realistic`` pairs)."""
    from wilddeblur.dataset.average import (
        draw_parameters,
        linear_table,
        sensor_noise,
        to_uint8,
    )

    averaging = VARIANTS["interp4-realistic"][1]
    table = linear_table(averaging)
    with h5py.File(path, "r") as src, h5py.File(out, "w") as dst:
        for key in src:
            src.copy(key, dst)
        dst.attrs.update(dict(src.attrs))
        for i in range(len(src["blurry"])):
            rng = np.random.default_rng([seed, i])
            drawn = draw_parameters(averaging, rng)
            noisy = sensor_noise(table[src["blurry"][i]], drawn["noise_shot"],
                                 drawn["noise_read"], rng)
            dst["blurry"][i] = to_uint8(np.interp(noisy, table, np.arange(256.0)))


def prepare(work: Path, train_clips: int, test_clips: int, seconds: float) -> list[str]:
    """Render the clips, probe them and take their flow tables (once)."""
    names = [f"train-{i}" for i in range(train_clips)]
    tests = [f"test-{i}" for i in range(test_clips)]
    for name in names:
        clip = work / "clips" / f"{name}.mp4"
        if not clip.exists():
            render_stretch_clip(scene_for(name, seconds), clip)
        if not (work / "flow" / f"{name}.csv").exists():
            probe_video(clip, work / "probe" / f"{name}.json")
            flow_stage(work / "probe" / f"{name}.json", work / "flow" / f"{name}.csv", 3,
                       FlowSettings(), 2)
    for i, name in enumerate(tests):
        for suffix, gamma in (("", None), ("-linear", CAMERA_GAMMA)):
            path = work / "test" / f"{name}{suffix}.h5"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                test_shard(scene_for(name, seconds), name, path, 20, seed=i, gamma=gamma)
        linear = work / "test" / f"{name}-linear.h5"
        if not linear.with_name(f"{name}-linear-noisy.h5").exists():
            noisy_copy(linear, linear.with_name(f"{name}-linear-noisy.h5"), seed=i)
    return names


def build_variant(work: Path, names: list[str], variant: str) -> Path:
    """The variant's train split through select and average; its manifest."""
    k, averaging = VARIANTS[variant]
    out = work / "data" / variant
    manifest = out / "manifest.csv"
    if manifest.exists():
        return manifest
    select([work / "flow" / f"{n}.csv" for n in names], work / "probe", out / "selection.csv",
           SelectionSettings(interpolate=k), fixed_splits={n: "train" for n in names},
           samples_per_shard=64)
    sel = pd.read_csv(out / "selection.csv")
    shards = []
    for shard in sorted(sel.loc[sel["kept"], "shard"].unique()):
        path = out / "train" / f"shard-{shard:05d}.h5"
        average(out / "selection.csv", "train", int(shard), work / "probe", path,
                averaging=averaging, interpolate=k)
        shards.append(path)
    write_manifest(shards, manifest)
    return manifest


def train_variant(work: Path, manifest: Path, variant: str, steps: int) -> Path:
    from wilddeblur.models.registry import ModelSpec
    from wilddeblur.training.settings import TrainSettings
    from wilddeblur.training.stages import train_network

    settings = TrainSettings(steps=steps, batch_size=8, crop=64, lr=2e-3, beta2=0.9,
                             schedule="cosine", loss="l1", checkpoint_every=500,
                             log_every=100, val_every=0, workers=0)
    model = ModelSpec("nafnet", {"width": 16, "enc_blocks": [1, 1, 1, 4], "middle_blocks": 1,
                                 "dec_blocks": [1, 1, 1, 1]})
    return train_network(manifest, work / "nets" / variant, settings, name="NAFNetWILD",
                         val_split="", model=model)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--train-clips", type=int, default=6)
    p.add_argument("--test-clips", type=int, default=2)
    p.add_argument("--seconds", type=float, default=2.0)
    args = p.parse_args()
    import torch

    from wilddeblur.evaluation.evaluate import evaluate
    from wilddeblur.models.registry import load_model

    torch.set_num_threads(1)
    names = prepare(args.work, args.train_clips, args.test_clips, args.seconds)
    tests = {label: sorted((args.work / "test").glob(f"test-?{suffix}.h5")) for label, suffix in
             (("codes", ""), ("linear", "-linear"), ("linear+noise", "-linear-noisy"))}
    rows, per_image = [], {}
    for variant in args.variants.split(","):
        manifest = build_variant(args.work, names, variant)
        model = load_model(train_variant(args.work, manifest, variant, args.steps), "cpu")
        row = {"variant": variant, "pairs": len(pd.read_csv(manifest))}
        for label, shards in tests.items():
            base = evaluate(shards, "blurry")["psnr"]
            net = evaluate(shards, variant, model)["psnr"]
            row |= {f"{label} input": base.mean(), f"{label} net": net.mean(),
                    f"{label} gain": net.mean() - base.mean()}
            per_image[label, "input"], per_image[label, variant] = base, net
        rows.append(row)
        print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.2f}"),
              flush=True)
    linear = pd.DataFrame({k[1]: v for k, v in per_image.items() if k[0] == "linear"})
    bins = pd.cut(linear["input"], [0, 20, 24, 28, 99])
    print("\nlinear test pairs by the input's PSNR (dB): mean PSNR of each")
    groups = linear.groupby(bins, observed=True)
    print(groups.mean().assign(n=groups.size()).to_string(float_format=lambda x: f"{x:.2f}"))


if __name__ == "__main__":
    main()
