"""The blur of what moves (issue 31): a still camera filming a small moving disc. The frame-wide
mean path (``blur_size``) reads well under 1 px, the moving part's (``blur_region``) reads the
disc's path, and the report counts the pairs as blurred."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from wilddeblur.dataset.select import SelectionSettings
from wilddeblur.dataset.stages import average, select, write_manifest
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.flow.stages import flow_stage
from wilddeblur.report.networks import blur_column, headline_lines, network_gains
from wilddeblur.report.tables import blur_breakdown
from wilddeblur.video.exposure import render_stretch_clip, stretch_scene
from wilddeblur.video.stages import probe_video

SPEED = 0.8  # the disc's motion, downsampled px per frame (under the 1 px threshold)
NE = 21


@pytest.fixture(scope="module")
def still_camera(tmp_path_factory):
    """A 640×360 still shot, 50 frames: a disc of radius 36 px (12 downsampled, 3 % of the
    frame) crossing it at SPEED; its selection (Ne = 21), one test shard and the manifest."""
    work = tmp_path_factory.mktemp("still")
    still = stretch_scene([(0.0, 50 / 240)], ("brick", "gravel", "text"), seed=1,
                          size=(640, 360))
    t = np.arange(still.frames)
    poses = np.stack([200 + 3 * SPEED * t, np.full(t.shape, 180.0), np.zeros(t.shape)], axis=1)
    scene = replace(still, poses=poses)
    assert np.ptp(scene.cams, axis=0).max() == 0  # the camera does not move
    render_stretch_clip(scene, work / "clip.mp4")
    probe_video(work / "clip.mp4", work / "probe" / "clip.json")
    flow_stage(work / "probe" / "clip.json", work / "flow" / "clip.csv", 3, FlowSettings(), 1)
    sel = select([work / "flow" / "clip.csv"], work / "probe", work / "selection.csv",
                 SelectionSettings(ne_min=NE, ne_max=NE), fixed_splits={"clip": "test"})
    shard = work / "test" / "shard-00000.h5"
    average(work / "selection.csv", "test", 0, work / "probe", shard)
    write_manifest([shard], work / "manifest.csv")
    return sel, pd.read_csv(work / "manifest.csv")


def test_the_moving_part_blur_reads_the_objects_path(still_camera):
    sel, manifest = still_camera
    kept = sel[sel["kept"]]
    assert len(kept) == 2 and len(manifest) == 2
    path = (NE - 1) * SPEED  # 16 px; DIS medium sees about 0.8 of a small object's motion
    assert (manifest["blur_region"] > 0.6 * path).all()
    assert (manifest["blur_region"] < 1.25 * path).all()
    assert (manifest["blur_size"] < 1.0).all()  # the frame-wide mean: "nearly sharp"
    np.testing.assert_array_equal(manifest["blur_region"], kept["blur_region"])


def test_the_report_counts_the_still_shots_as_blurred(still_camera):
    _, manifest = still_camera
    assert blur_column(manifest)[0] == "blur_region"
    rows = [{"method": m, "file": f, "index": i, "psnr": p}
            for f, i in zip(manifest["file"], manifest["index"], strict=True)
            for m, p in (("blurry", 30.0), ("DeblurNetWILD", 31.0))]
    per_image = pd.DataFrame(rows)
    gains = network_gains(per_image, ["DeblurNetWILD"], manifest)
    assert gains["n_blurred"].tolist() == [2]
    assert ("On the 2 blurred ones (moving part's blur 1 px or more)"
            in " ".join(headline_lines(gains)))
    table = blur_breakdown(per_image, manifest)
    assert table["blur"].astype(str).tolist() == [">= 6 px"]
    old = network_gains(per_image, ["DeblurNetWILD"], manifest.drop(columns="blur_region"))
    assert old["n_blurred"].tolist() == [0]  # what the frame-wide mean said
