"""§2 step 2: blurry = mean of Ne frames, sharp = the central frame."""

import numpy as np
import pytest

from wilddeblur.average import average_frames, blurry_sharp_pair


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
