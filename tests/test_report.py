"""Table 2 summary: whole split and the paper's 15-image protocol."""

import numpy as np
import pandas as pd
import pytest

from wilddeblur.evaluation.metrics import psnr_shift_tolerant
from wilddeblur.report.tables import summarise


def per_image(n: int) -> pd.DataFrame:
    rows = []
    for method, offset in (("blurry", 20.0), ("DeblurNetWILD", 25.0)):
        for i in range(n):
            rows.append({"method": method, "file": "test/shard-00000.h5", "index": i,
                         "psnr": offset + i, "ssim": 0.5, "psnr_shift": offset + i + 0.1,
                         "psnr_float": offset + i})
    return pd.DataFrame(rows)


def test_whole_split_and_protocol_rows():
    table = summarise(per_image(40), seed=0)
    assert list(table["split"]) == ["test", "test", "test-15", "test-15"]
    assert list(table["n_images"]) == [40, 40, 15, 15]
    whole = table[table["split"] == "test"].set_index("method")["psnr"]
    assert whole["blurry"] == pytest.approx(20 + 19.5)
    proto = table[table["split"] == "test-15"].set_index("method")["psnr"]
    assert proto["DeblurNetWILD"] - proto["blurry"] == pytest.approx(5.0)  # the same images
    assert table["paper_psnr"].isna().tolist() == [True, True, True, False]


def test_protocol_draw_depends_on_the_seed():
    a = summarise(per_image(40), seed=0)["psnr"].iloc[2]
    assert summarise(per_image(40), seed=0)["psnr"].iloc[2] == a
    assert summarise(per_image(40), seed=1)["psnr"].iloc[2] != a


def test_shift_tolerant_psnr_forgives_a_small_shift():
    from skimage import data

    img = data.astronaut()[100:200, 100:200]
    shifted = np.roll(img, (2, -1), axis=(0, 1))
    assert psnr_shift_tolerant(shifted, img) == float("inf")
