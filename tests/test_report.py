"""Table 2 summary: whole split and the paper's 15-image protocol."""

import numpy as np
import pandas as pd
import pytest

from wilddeblur.evaluation.metrics import psnr_shift_tolerant
from wilddeblur.report.networks import headline_lines, network_gains
from wilddeblur.report.tables import blur_breakdown, summarise


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
    # the blurry input on the row's images: a method run on 10 of the 40 is compared on those
    sub = per_image(40)
    sub = sub[(sub["method"] == "blurry") | (sub["index"] < 10)]
    rows = summarise(sub, seed=0).set_index(["split", "method"])
    assert rows.loc[("test", "DeblurNetWILD"), "blurry_psnr"] == pytest.approx(20 + 4.5)
    assert rows.loc[("test", "blurry"), "blurry_psnr"] == pytest.approx(20 + 19.5)


def test_protocol_label_says_the_count_it_has():
    """Issue 31: a 10-image test split was reported as "test-15"; its protocol rows cover its
    10 images and say so."""
    table = summarise(per_image(10), seed=0)
    assert list(table["split"]) == ["test", "test", "test-10", "test-10"]
    assert list(table["n_images"]) == [10, 10, 10, 10]


def test_report_names_the_protocol_rows_by_their_count(tmp_path):
    from wilddeblur.report.tables import write_report

    selection = pd.DataFrame({"video": ["v"], "split": ["test"], "kept": [True],
                              "reason": [""], "ne": [7]})
    context = {"seed": 0, "data": "one video", "machine": "a CPU", "statistic": "region",
               "threshold": 1.0, "max_match_err": None, "ne_min": 7, "ne_max": 23}
    logs = {"DeblurNetWILD": pd.DataFrame({"step": [1], "loss": [0.1], "seconds": [1.0]})}
    write_report(per_image(10), selection, logs, tmp_path, "examples.png", context)
    text = (tmp_path / "report.md").read_text()
    assert "test-15" not in text
    assert "`test-10` the paper's protocol (15 images drawn with the seed; only 10 test " \
           "images are evaluated here, so all of them)" in text
    assert "| test-10 |" in text
    assert "Adapted to the frame sizes" not in text  # nothing was
    note = "train.crop 96 -> 40 for DeblurNetSI, which needs 40 px more than its crops"
    write_report(per_image(10), selection, logs, tmp_path, "examples.png",
                 context | {"sizes": [note]})
    assert (f"Adapted to the frame sizes (checked after probe): {note}."
            in (tmp_path / "report.md").read_text())


def test_protocol_draw_depends_on_the_seed():
    a = summarise(per_image(40), seed=0)["psnr"].iloc[2]
    assert summarise(per_image(40), seed=0)["psnr"].iloc[2] == a
    assert summarise(per_image(40), seed=1)["psnr"].iloc[2] != a


def test_shift_tolerant_psnr_forgives_a_small_shift():
    from skimage import data

    img = data.astronaut()[100:200, 100:200]
    shifted = np.roll(img, (2, -1), axis=(0, 1))
    assert psnr_shift_tolerant(shifted, img) == float("inf")


def test_psnr_by_blur_size_separates_nearly_sharp_pairs():
    """Two nearly sharp pairs (blur 0.3 and 0.8 px) where the network loses 6 and 2 dB, two
    blurred ones (2 and 7 px) where it gains 0.5 and 1.5 dB: the breakdown and the headline
    report each group's mean, and the share improved, by hand."""
    manifest = pd.DataFrame({"file": ["test/a.h5"] * 4, "index": [0, 1, 2, 3],
                             "blur_size": [0.3, 0.8, 2.0, 7.0]})
    rows = []
    for i, (blurry, wild) in enumerate([(46.0, 40.0), (42.0, 40.0), (30.0, 30.5), (24.0, 25.5)]):
        for method, value in (("blurry", blurry), ("DeblurNetWILD", wild)):
            rows.append({"method": method, "file": "test/a.h5", "index": i, "video": "v",
                         "center": i, "psnr": value, "ssim": 0.9, "psnr_shift": value,
                         "psnr_float": value})
    l0 = "uniform L0 (after Xu et al. 2013)"
    rows.append({"method": l0, "file": "test/a.h5", "index": 3, "video": "v",
                 "center": 3, "psnr": 20.0, "ssim": 0.5, "psnr_shift": 20.0, "psnr_float": 20.0})
    per_image = pd.DataFrame(rows)
    table = blur_breakdown(per_image, manifest).set_index("blur")
    assert table.loc["0-1 px", "n_images"] == 2
    assert table.loc["0-1 px", "blurry"] == pytest.approx(44.0)
    assert table.loc["0-1 px", "DeblurNetWILD"] == pytest.approx(40.0)
    assert table.loc["1-3 px", "DeblurNetWILD"] == pytest.approx(30.5)
    assert table.loc[">= 6 px", "blurry"] == pytest.approx(24.0)
    assert "3-6 px" not in table.index
    assert l0 not in table.columns  # run on a subset of the images only
    gains = network_gains(per_image, ["DeblurNetWILD"], manifest).set_index("method")
    assert gains.loc["DeblurNetWILD", "gain_db"] == pytest.approx(-1.5)
    assert gains.loc["DeblurNetWILD", "gain_blurred_db"] == pytest.approx(1.0)
    assert gains.loc["DeblurNetWILD", "improved"] == pytest.approx(0.5)
    text = " ".join(headline_lines(gains.reset_index()))
    assert "-1.50 dB over the blurry input: it does not improve on the input." in text
    assert "On the 2 blurred ones (average blur 1 px or more): +1.00 dB." in text
    assert "It improves 50% of the test images." in text


def test_table2_lists_every_row_of_the_paper_and_says_which_were_not_computed():
    from wilddeblur.report.tables import with_paper_rows

    table = pd.DataFrame({"method": ["blurry", "DeblurNetWILD", "Xu & Jia 2010"],
                          "split": "test-15", "n_images": 15, "psnr": [27.0, 28.0, 26.0],
                          "paper_psnr": [np.nan, 28.1, 23.61]})
    rows = with_paper_rows(table, "test-15").set_index("method")
    assert list(rows.index) == ["blurry", "DeblurNetWILD", "Xu & Jia 2010", "Sun et al. 2015",
                                "uniform L0 (after Xu et al. 2013)", "DeblurNetSI"]
    assert (rows.loc[["blurry", "DeblurNetWILD", "Xu & Jia 2010"], "computed"] == "yes").all()
    missing = rows.loc[["Sun et al. 2015", "uniform L0 (after Xu et al. 2013)", "DeblurNetSI"]]
    assert (missing["computed"] == "not computed").all() and missing["psnr"].isna().all()
    assert list(missing["paper_psnr"]) == [25.48, 22.50, 25.8]
