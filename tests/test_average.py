"""§2 step 2: blurry = mean of Ne frames, sharp = the central frame."""

import numpy as np
import pytest

from wilddeblur.dataset.average import (
    READ_RANGE,
    SHOT_RANGE,
    Averaging,
    average_frames,
    blurry_sharp_pair,
    clipped,
    clipped_fraction,
    draw_parameters,
    load_inverse_crf,
)
from wilddeblur.errors import ConfigError


def test_mean_of_known_frames():
    frames = np.stack([np.full((2, 3, 3), v, np.uint8) for v in (10, 20, 40)])
    blurry, sharp = blurry_sharp_pair(frames)
    assert blurry.dtype == np.uint8
    assert (blurry == 23).all()  # 70 / 3 = 23.33
    assert (sharp == 20).all()  # the central frame


def test_rounds_half_up_exactly():
    frames = np.stack([np.full((1, 1, 3), v, np.uint8) for v in (0, 0, 0, 1, 1, 1, 1)])
    assert average_frames(frames[:2]).item(0) == 0  # 0/2
    assert average_frames(np.stack([frames[0], frames[3]])).item(0) == 1  # 0.5 → 1
    assert average_frames(frames).item(0) == 1  # 4/7 = 0.57


def test_no_overflow_with_23_white_frames():
    frames = np.full((23, 4, 4, 3), 255, np.uint8)
    assert (average_frames(frames) == 255).all()


def test_even_window_is_refused():
    with pytest.raises(ValueError, match="odd"):
        blurry_sharp_pair(np.zeros((4, 2, 2, 3), np.uint8))


def test_gamma_averaging_is_a_mean_in_linear_light():
    frames = np.stack([np.zeros((1, 1, 3), np.uint8), np.full((1, 1, 3), 255, np.uint8),
                       np.zeros((1, 1, 3), np.uint8)])
    blurry, _ = blurry_sharp_pair(frames, Averaging(mode="gamma"))
    assert blurry.item(0) == round(255 * (1 / 3) ** (1 / 2.2))  # 155, not the plain 85
    assert average_frames(frames).item(0) == 85


def test_identity_response_file_equals_plain_averaging(tmp_path):
    crf = tmp_path / "identity.txt"
    crf.write_text("\n".join(str(v) for v in range(256)))
    frames = np.random.default_rng(0).integers(0, 256, (7, 5, 6, 3), dtype=np.uint8)
    blurry, _ = blurry_sharp_pair(frames, Averaging(mode="crf", crf_file=str(crf)))
    np.testing.assert_array_equal(blurry, average_frames(frames))


def test_bad_response_file_and_mode_name_the_key(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 3")
    with pytest.raises(ValueError, match="bad.txt: an inverse response needs 256"):
        load_inverse_crf(bad)
    with pytest.raises(ValueError, match="average.mode"):
        Averaging(mode="log")
    with pytest.raises(ValueError, match="average.crf_file"):
        Averaging(mode="crf")


def test_noise_is_seeded_and_of_the_requested_level():
    frames = np.full((7, 64, 64, 3), 128, np.uint8)
    avg = Averaging(noise_sigma=0.02)
    a, _ = blurry_sharp_pair(frames, avg, np.random.default_rng(1))
    b, _ = blurry_sharp_pair(frames, avg, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert a.astype(float).std() == pytest.approx(0.02 * 255, rel=0.1)


def test_clipped_fraction_counts_pixels_saturated_in_any_frame():
    frames = np.zeros((3, 2, 2, 3), np.uint8)
    frames[1, 0, 0, 2] = 255
    assert clipped_fraction(frames) == 0.25


def plain_mean(frames: np.ndarray) -> np.ndarray:
    """The paper's mean rounded half up, in Python integers: floor((2 sum + Ne) / (2 Ne))."""
    ne = frames.shape[0]
    return ((2 * frames.astype(np.int64).sum(axis=0) + ne) // (2 * ne)).astype(np.uint8)


def test_default_output_is_the_integer_mean():
    frames = np.random.default_rng(2).integers(0, 256, (9, 16, 20, 3), dtype=np.uint8)
    blurry, sharp = blurry_sharp_pair(frames, Averaging(), np.random.default_rng(0))
    np.testing.assert_array_equal(blurry, plain_mean(frames))
    np.testing.assert_array_equal(sharp, frames[4])


DEGRADATIONS = [{}, {"mode": "gamma"}, {"noise_sigma": 0.02}, {"noise": "poisson_gaussian"},
                {"saturation": "rsblur"},
                {"mode": "gamma", "noise": "poisson_gaussian", "saturation": "rsblur"}]


@pytest.mark.parametrize("settings", DEGRADATIONS, ids=str)
def test_float_frames_give_the_uint8_result(settings):
    frames = np.random.default_rng(3).integers(0, 256, (7, 12, 10, 3), dtype=np.uint8)
    frames[:, :3] = 255  # clipped rows, for the saturation
    avg = Averaging(**settings)
    as_uint8 = blurry_sharp_pair(frames, avg, np.random.default_rng(4))
    as_float = blurry_sharp_pair(frames.astype(np.float32), avg, np.random.default_rng(4))
    for a, b in zip(as_uint8, as_float, strict=True):
        assert b.dtype == np.uint8
        np.testing.assert_array_equal(a, b)


def test_float_codes_are_averaged_then_rounded_half_up():
    frames = np.array([10.2, 11.3, 12.5], np.float32).reshape(3, 1, 1, 1) * np.ones((1, 1, 1, 3))
    blurry, sharp = blurry_sharp_pair(frames.astype(np.float32))
    assert blurry.item(0) == 11 and sharp.item(0) == 11  # mean 11.33; 11.3 → 11
    half = np.array([0.5, 1.0, 1.0], np.float32).reshape(3, 1, 1, 1) * np.ones((1, 1, 1, 3))
    assert blurry_sharp_pair(half.astype(np.float32))[0].item(0) == 1  # mean 0.833 → 1
    assert blurry_sharp_pair(np.float32([[[[0.5]]]]))[0].item(0) == 1  # 0.5 rounds up
    assert blurry_sharp_pair(np.full((3, 1, 1, 1), 300, np.float32))[0].item(0) == 255


def test_float_codes_from_254_5_count_as_clipped():
    frames = np.zeros((3, 1, 2, 3), np.float32)
    frames[1, 0, 0, 0] = 254.5
    frames[1, 0, 1, 0] = 254.4
    assert clipped_fraction(frames) == 0.5


@pytest.mark.parametrize("code", [20, 80, 160, 220])
def test_poisson_gaussian_variance_is_shot_times_signal_plus_read_squared(code):
    """On a flat image at x = code / 255, Var(y - x) = shot * x + read^2, plus the rounding to
    8-bit codes (1 / 12 code^2; noise of several codes, so the rounding adds that much)."""
    shot, read = 4e-4, 4e-3
    frames = np.full((3, 512, 512, 3), code, np.uint8)
    avg = Averaging(noise="poisson_gaussian")
    blurry, _ = blurry_sharp_pair(frames, avg, np.random.default_rng(code),
                                  {"noise_shot": shot, "noise_read": read})
    x = code / 255
    measured = np.var(blurry / 255 - x)
    expected = shot * x + read**2 + 1 / (12 * 255**2)
    assert measured == pytest.approx(expected, rel=0.02)  # 786,432 values: 0.2 % std error
    assert np.mean(blurry / 255) == pytest.approx(x, abs=3e-4)  # unbiased


def test_drawn_noise_and_saturation_lie_in_rsblurs_ranges():
    """Uniform in [0.5, 1.5] x RSBlur's shot 1e-4 and read 9.1504e-4, and in saturation_range."""
    assert SHOT_RANGE == pytest.approx((0.5e-4, 1.5e-4))
    assert READ_RANGE == pytest.approx((4.5752e-4, 1.37256e-3))
    avg = Averaging(noise="poisson_gaussian", saturation="rsblur", saturation_range=(0.5, 1.5))
    draws = [draw_parameters(avg, np.random.default_rng(i)) for i in range(400)]
    for key, (low, high) in [("noise_shot", SHOT_RANGE), ("noise_read", READ_RANGE),
                             ("saturation_alpha", (0.5, 1.5))]:
        values = np.array([d[key] for d in draws])
        assert low <= values.min() < low + 0.05 * (high - low)  # the whole range is reached
        assert high - 0.05 * (high - low) < values.max() <= high
        assert np.mean(values) == pytest.approx((low + high) / 2, rel=0.05)
    assert draw_parameters(Averaging(noise_sigma=0.1), np.random.default_rng(0)) == {}


def clipped_window(ne: int = 9) -> np.ndarray:
    """Pixel k of row 0 is clipped (255, red only) in k of the Ne frames, 0 elsewhere; row 1
    is never clipped (random codes below 255)."""
    frames = np.zeros((ne, 2, ne + 1, 3), np.uint8)
    for k in range(ne + 1):
        frames[:k, 0, k, 0] = 255
    frames[:, 1] = np.random.default_rng(0).integers(0, 255, (ne, ne + 1, 3))
    return frames


@pytest.mark.parametrize("alpha", [0.25, 1.0, 1.75])
def test_saturation_makes_clipped_channels_brighter_as_defined(alpha):
    """A channel clipped in a share m of the frames (0 elsewhere) averages to
    min(1, m (1 + alpha)): it saturates from m >= 1 / (1 + alpha) on, not only at m = 1."""
    frames = clipped_window()
    avg = Averaging(saturation="rsblur")
    blurry, _ = blurry_sharp_pair(frames, avg, drawn={"saturation_alpha": alpha})
    plain, _ = blurry_sharp_pair(frames)
    share = np.arange(10) / 9
    expected = np.floor(255 * np.minimum(1, share * (1 + alpha)) + 0.5)
    np.testing.assert_array_equal(blurry[0, :, 0], expected)
    assert (blurry[0, :, 0] == 255).sum() == (share >= 1 / (1 + alpha) - 1e-12).sum()
    assert (plain[0, :, 0] == 255).sum() == 1  # without: only the pixel clipped throughout
    assert (blurry >= plain).all()  # a clipped highlight never darkens
    never = ~clipped(frames).any(axis=0)  # per channel: green, blue and row 1
    np.testing.assert_array_equal(blurry[never], plain[never])


def test_saturated_channels_get_no_sensor_noise():
    frames = np.full((5, 64, 64, 3), 255, np.uint8)
    frames[:, :, :, 1] = 128
    avg = Averaging(noise="poisson_gaussian", saturation="rsblur")
    blurry, _ = blurry_sharp_pair(frames, avg, np.random.default_rng(0))
    assert (blurry[..., [0, 2]] == 255).all() and blurry[..., 1].std() > 0.5


@pytest.mark.parametrize(("settings", "key"), [
    ({"noise": "shot"}, "average.noise"),
    ({"saturation": "yes"}, "average.saturation"),
    ({"saturation_range": (1.5, 0.5)}, "average.saturation_range"),
    ({"saturation_range": (0.0, 1.0)}, "average.saturation_range"),
    ({"saturation_range": (0.5,)}, "average.saturation_range"),
    ({"saturation_range": ("a", "b")}, "average.saturation_range"),
    ({"noise": "poisson_gaussian", "noise_sigma": 0.1}, "average.noise_sigma"),
])
def test_bad_degradation_settings_name_the_key(settings, key):
    with pytest.raises(ConfigError, match=key) as err:
        Averaging(**settings)
    assert "\n" not in str(err.value)


def test_saturation_range_from_a_list_is_a_tuple():
    assert Averaging(saturation_range=[0.5, 2]).saturation_range == (0.5, 2.0)
