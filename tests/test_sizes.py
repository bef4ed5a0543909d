"""Frame sizes against the size-dependent settings, checked after probe (issue 31): each
setting adapts to small footage with a note, or the run stops in one line naming the key and
the video."""

import json

import pytest
from snakemake.utils import validate

from tests.conftest import ROOT
from wilddeblur.errors import ConfigError
from wilddeblur.training.sizes import Frame, check_sizes, fit_sizes

SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"


def config(**sections) -> dict:
    cfg = dict(sections)
    validate(cfg, str(SCHEMA))  # the schema's defaults filled in, as the Snakefile does
    return cfg


def frames(train: tuple[int, int], test: tuple[int, int]) -> list[Frame]:
    """A train and a test video whose downsampled frames are ``(width, height)``."""
    return [Frame("cam", *train, 3, "train"), Frame("park", *test, 3, "test")]


def test_demo_sized_frames_change_nothing():
    adapted, notes = fit_sizes(frames((427, 240), (427, 240)), config())
    assert adapted == {"train": {}, "baselines": {"wild": {}, "si": {}}} and notes == []


def test_512x384_footage_gets_a_smaller_si_crop():
    """171x128 after x3: crop 128 fits the WILD pairs, not the SI crops (128 + 40 > 128)."""
    adapted, notes = fit_sizes(frames((171, 128), (171, 128)), config())
    assert adapted == {"train": {"DeblurNetSI": 88}, "baselines": {"wild": {}, "si": {}}}
    assert notes == [
        "train.crop 128 -> 88 for DeblurNetSI, which needs 40 px more than its crops for the "
        "synthetic blur: cam's frames are 171x128 after the x3 downsampling (downsample.factor)"]


def test_320x240_footage_gets_smaller_crops_and_kernels():
    """107x80 after x3: crops of 80 (WILD) and 40 (SI); the SI test images are 67x40, so the
    blind baselines' 25 px kernels become 19 there (2 x 19 <= 40), not on the WILD test split."""
    cfg = config(model={"arch": ["deblurnet", "nafnet"]},
                 train={"crop": 96, "nafnet": {"crop": 64}})
    adapted, notes = fit_sizes(frames((107, 80), (107, 80)), cfg)
    assert adapted == {"train": {"DeblurNetWILD": 80, "DeblurNetSI": 40, "NAFNetSI": 40},
                       "baselines": {"wild": {}, "si": {"l0": 19, "xu_jia": 19}}}
    assert notes[2].startswith("train.nafnet.crop 64 -> 40 for NAFNetSI")
    assert notes[4] == (
        "baselines.xu_jia.kernel_size 25 -> 19 on the SI test set, whose images have 40 px "
        "(blind deblurring needs twice the kernel side): park's frames are 107x80 after the "
        "x3 downsampling (downsample.factor)")


def test_a_configured_kernel_that_fits_is_kept():
    cfg = config(baselines={"l0": {"kernel_size": 13}, "xu_jia": {"kernel_size": 21}})
    adapted, _ = fit_sizes(frames((107, 80), (107, 80)), cfg)
    assert adapted["baselines"]["si"] == {"xu_jia": 19}


def test_the_smallest_video_of_each_split_decides():
    cfg = config()
    both = [Frame("big", 427, 240, 3, "train"), Frame("small", 171, 120, 3, "train"),
            Frame("park", 427, 240, 3, "test")]
    adapted, notes = fit_sizes(both, cfg)
    assert adapted["train"] == {"DeblurNetWILD": 120, "DeblurNetSI": 80}
    assert "small's frames are 171x120" in notes[0]
    assert adapted["baselines"] == {"wild": {}, "si": {}}  # the test split is large


def test_a_video_split_in_time_is_in_both_splits():
    adapted, _ = fit_sizes([Frame("only", 107, 80, 3, "both")], config())
    assert adapted["train"]["DeblurNetSI"] == 40 and adapted["baselines"]["si"]["l0"] == 19


def test_test_frames_too_small_for_the_si_test_set_are_refused():
    """60x60 after x3: the SI test images would be 20x20, under Sun's 30x30 patches."""
    with pytest.raises(ConfigError) as err:
        fit_sizes(frames((427, 240), (60, 60)), config())
    assert str(err.value).startswith(
        "si: park's frames are 60x60 after the x3 downsampling (downsample.factor); the SI "
        "test set blurs them 'valid' with 41x41 kernels, 40 px smaller, under the 30x30 "
        "patches of Sun et al. 2015")


def test_train_frames_too_small_for_an_si_crop_are_refused():
    """50 px: the WILD crop can be 48, but 50 - 40 leaves no SI crop of 16 px."""
    with pytest.raises(ConfigError) as err:
        fit_sizes(frames((90, 50), (427, 240)), config())
    assert str(err.value).startswith(
        "train.crop: cam's frames are 90x50 after the x3 downsampling (downsample.factor); "
        "DeblurNetSI needs 40 px more than its crops for the synthetic blur: no crop of at "
        "least 16 px fits")
    adapted, _ = fit_sizes(frames((90, 50), (427, 240)), config(si={"wild_sharp": False}))
    assert adapted["train"] == {"DeblurNetWILD": 48}  # SI on other photos only: no SI crop


def test_sun_training_without_photos_needs_a_large_enough_train_frame():
    cfg = config(baselines={"sun2015_train": {"photos": False}})
    with pytest.raises(ConfigError, match=r"^baselines.sun2015_train.max_length: cam's frames "
                                          r"are 90x50 .* need 54 px, and photos is false"):
        fit_sizes(frames((90, 50), (427, 240)), config(
            si={"wild_sharp": False}, baselines={"sun2015_train": {"photos": False}}))
    assert fit_sizes(frames((427, 240), (427, 240)), cfg)[1] == []


def test_check_sizes_reads_the_probes_and_writes_what_it_checked(tmp_path):
    for video, (w, h) in (("cam", (320, 240)), ("park", (1280, 720))):
        (tmp_path / f"{video}.json").write_text(json.dumps(
            {"path": f"{video}.mp4", "codec": "h264", "pix_fmt": "yuv420p", "width": w,
             "height": h, "rotation": 0, "fps": 240.0, "frames": 240, "bits_per_sample": 8}))
    out = tmp_path / "sizes.json"
    notes = check_sizes([tmp_path / "cam.json", tmp_path / "park.json"],
                        {"cam": "train", "park": "test"}, 3, config(), out)
    plan = json.loads(out.read_text())
    assert plan["frames"] == [
        {"video": "cam", "width": 107, "height": 80, "factor": 3, "split": "train"},
        {"video": "park", "width": 427, "height": 240, "factor": 3, "split": "test"}]
    assert plan["notes"] == notes and len(notes) == 2 and "cam's frames are 107x80" in notes[0]


def test_the_checker_constants_are_the_stages_own():
    from wilddeblur.models.sun2015_arch import PATCH
    from wilddeblur.training.sizes import SI_MARGIN, SUN_PATCH
    from wilddeblur.training.synthetic_blur import MARGIN

    assert (SUN_PATCH, SI_MARGIN) == (PATCH, MARGIN)


def test_stages_refuse_a_too_small_image_with_an_expected_error():
    """What the check prevents still ends in one line (an expected error), not a traceback."""
    import numpy as np

    from wilddeblur.evaluation.baselines.l0 import coarse_to_fine
    from wilddeblur.evaluation.baselines.sun_motion import patch_grid

    with pytest.raises(ConfigError, match=r"^kernel_size 25: image 67x40 is too small"):
        next(coarse_to_fine(np.zeros((40, 67)), 25, 0.5, 5))
    with pytest.raises(ConfigError, match=r"^Sun et al. 2015: image 67x20 is smaller than"):
        patch_grid(np.zeros((20, 67), np.float32), 6)
