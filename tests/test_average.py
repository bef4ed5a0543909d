"""§2 step 2: blurry = mean of Ne frames, sharp = the central frame."""

import numpy as np
import pytest

from wilddeblur.dataset.average import (
    Averaging,
    average_frames,
    blurry_sharp_pair,
    clipped_fraction,
    load_inverse_crf,
)


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
