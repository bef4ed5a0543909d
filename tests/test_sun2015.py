"""Sun et al. 2015: motion discretisation, patch CNN training, MRF, space-varying deconvolution."""

import numpy as np
import pytest
import torch

from tests.test_baselines import photo, si_set  # noqa: F401  (si_set: a pytest fixture)
from wilddeblur.evaluation.baselines import run_baseline
from wilddeblur.evaluation.baselines.sun_cnn import (
    Sun2015TrainSettings,
    blurred_patches,
    train_sun2015,
)
from wilddeblur.evaluation.baselines.sun_motion import (
    SunParams,
    SunRestorer,
    deblur_with_field,
    kernel_stack,
    linear_kernel,
    motion_classes,
    motion_distance,
    mrf_labels,
)
from wilddeblur.evaluation.metrics import psnr
from wilddeblur.models.sun2015_arch import SunPatchNet
from wilddeblur.training.synthetic_blur import blur_valid


def test_sun_discretisation_has_their_73_classes():
    classes = motion_classes()
    assert len(classes) == 73 and classes[0] == (1, 0.0)
    assert sorted({c[0] for c in classes}) == [1, *range(3, 26, 2)]
    assert sorted({c[1] for c in classes}) == [0, 30, 60, 90, 120, 150]
    assert kernel_stack(classes).shape == (73, 27, 27)


@pytest.mark.parametrize(("angle", "rows", "cols"), [(0, 1, 9), (90, 9, 1)])
def test_linear_kernel_is_a_segment_of_the_given_length(angle, rows, cols):
    k = linear_kernel(9, angle, 15)
    assert k.sum() == pytest.approx(1.0) and k.min() >= 0
    ys, xs = np.nonzero(k > 1e-9)
    assert (ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) == (rows, cols)
    assert k[7, 7] > 0  # through the centre
    assert np.allclose(k, k[::-1, ::-1])  # symmetric: a segment has no direction


def test_motion_distance_ignores_the_direction_of_a_segment():
    classes = [(1, 0.0), (5, 0.0), (5, 90.0)]
    d = motion_distance(classes)
    assert d[1, 1] == 0 and d[0, 1] == pytest.approx(25)
    assert d[1, 2] == pytest.approx(50)  # (5, 0) against (0, 5)
    assert motion_distance([(5, 10.0), (5, 170.0)])[0, 1] == pytest.approx(
        (2 * 5 * np.sin(np.deg2rad(10))) ** 2)  # 170° is -10°: nearly the same segment


def test_mrf_recovers_a_two_region_motion_field_from_noisy_scores():
    """Left half class 5, right half class 20 of the 73; each patch's scores put 0.2 on its true
    class and 0.8 at random (sparse), so the argmax is right at only 22 % of the patches; the
    MRF (default weight 0.02) gets at least 90 % right (measured 97 %; the field is the
    construction)."""
    classes = motion_classes()
    truth = np.full((20, 30), 5)
    truth[:, 15:] = 20
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(73, 0.05), size=truth.shape) * 0.8
    probs[np.arange(20)[:, None], np.arange(30), truth] += 0.2
    raw = (probs.argmax(-1) == truth).mean()
    labels = mrf_labels(probs, motion_distance(classes), SunParams().smoothness, 10)
    assert raw < 0.3
    assert (labels == truth).mean() >= 0.9


def test_space_varying_deconvolution_with_the_true_field_improves_psnr():
    """Top half blurred by a horizontal 11-px segment, bottom half by a vertical one: with
    the true field the deblurred image is ≥ 2 dB better than the input away from the seam."""
    classes = motion_classes()
    img = photo("camera", (slice(0, 240), slice(100, 400)))
    kh, kv = classes.index((11, 0.0)), classes.index((11, 90.0))
    kernels = kernel_stack(classes)
    x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None]
    blurred = [blur_valid(x, torch.from_numpy(kernels[c])[None])[0].numpy().transpose(1, 2, 0)
               for c in (kh, kv)]
    h = blurred[0].shape[0]
    y = np.concatenate([blurred[0][: h // 2], blurred[1][h // 2:]])
    sharp = img[13:-13, 13:-13]
    p = SunParams(stride=6)
    gh = (y.shape[0] - 30) // 6 + 1
    gw = (y.shape[1] - 30) // 6 + 1
    labels = np.where((np.arange(gh) * 6 + 15 < h // 2)[:, None], kh, kv) * np.ones(gw, int)
    restored = np.clip(deblur_with_field(y, labels, classes, p), 0, 1)
    for rows in (slice(10, h // 2 - 20), slice(h // 2 + 20, h - 10)):
        assert psnr(restored[rows], sharp[rows], 1.0) > psnr(y[rows], sharp[rows], 1.0) + 2


def test_blurred_patches_are_the_kernel_applied_to_a_crop():
    img = np.zeros((80, 80), np.float32)
    img[40, 40] = 1.0  # one bright point: the patch shows the kernel itself
    classes = motion_classes(9, 2)
    kernels = torch.from_numpy(kernel_stack(classes).astype(np.float32))
    label = classes.index((9, 90.0))
    rng = np.random.default_rng(3)
    while True:  # a crop whose patch holds the whole blurred point
        patch = blurred_patches([img], kernels, torch.tensor([label]), rng, 0.0)[0, 0].numpy()
        if patch.sum() > 0.95:
            break
    ys, xs = np.nonzero(patch > 0.02)
    assert xs.max() == xs.min() and ys.max() - ys.min() + 1 == 9  # a vertical 9-px segment


@pytest.mark.slow
def test_short_training_learns_the_motion_classes_and_sun_improves_psnr(tmp_path, si_set):  # noqa: F811
    """300 steps (about 20 s) on 9 classes (lengths 1-9 px, 2 angles) of photo patches:
    held-out exact class ≥ 0.15 (chance 1/9; measured 0.21), within one step ≥ 0.5 (measured
    0.70); the model then deblurs a photo blurred by a 9-px horizontal segment: ≥ 60 % of
    the field is a horizontal 7 or 9 px (measured 97 %), PSNR ≥ 0.8 dB over the input
    (measured 1.2 dB); run_baseline names the row 'Sun et al. 2015'."""
    torch.manual_seed(0)
    photos = [photo(n, (slice(0, 300), slice(0, 400))).mean(-1).astype(np.float32)
              for n in ("astronaut", "coffee", "chelsea", "rocket")]
    settings = Sun2015TrainSettings(steps=300, batch_size=64, lr=2e-3, width=0.25,
                                    max_length=9, angles=2, val_patches=500)
    state = train_sun2015(photos, tmp_path / "sun.pt", settings, seed=0)
    assert state["val_accuracy"] >= 0.15 and state["val_near"] >= 0.5
    restorer = SunRestorer(tmp_path / "sun.pt", stride=8)
    img = photo("camera", (slice(0, 240), slice(100, 400)))
    k = linear_kernel(9, 0.0, 11)
    x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None]
    y = blur_valid(x, torch.from_numpy(k)[None])[0].numpy().transpose(1, 2, 0)
    y = np.round(y * 255).astype(np.uint8)
    restored = np.clip(restorer(y, "x", 0), 0, 1)
    labels = restorer.fields[("x", 0)]
    near = [restorer.classes.index(c) for c in ((9, 0.0), (7, 0.0))]
    assert np.isin(labels, near).mean() >= 0.6
    sharp = img[5:-5, 5:-5]
    assert psnr(restored, sharp, 1.0) > psnr(y / 255.0, sharp, 1.0) + 0.8
    table = run_baseline(si_set[0], "sun2015", tmp_path / "sun.csv", max_images=1,
                         checkpoint=tmp_path / "sun.pt", params={"stride": 8})
    assert list(table["method"]) == ["Sun et al. 2015"]
    with pytest.raises(ValueError, match="checkpoint"):
        run_baseline(si_set[0], "sun2015", tmp_path / "y.csv")


def test_network_shape_and_errors():
    net = SunPatchNet(73, 0.25)
    assert net(torch.rand(2, 1, 30, 30)).shape == (2, 73)
    with pytest.raises(ValueError, match="30x30"):
        net(torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match="stride"):
        SunParams(stride=0)
    with pytest.raises(ValueError, match="deconvolution"):
        SunParams(deconvolution="richardson-lucy")


def test_training_settings_defaults_are_the_schema_defaults():
    """One source of defaults: baselines.sun2015_train's keys are the settings' fields."""
    import dataclasses

    from tests.test_defaults import SCHEMA, same

    section = SCHEMA["properties"]["baselines"]["properties"]["sun2015_train"]["properties"]
    fields = {f.name: f.default for f in dataclasses.fields(Sun2015TrainSettings)}
    assert set(section) == set(fields)
    for name, node in section.items():
        assert same(fields[name], node["default"]), name
    sun = SCHEMA["properties"]["baselines"]["properties"]["sun2015"]["properties"]
    assert set(sun) == set(SunParams.__dataclass_fields__)
