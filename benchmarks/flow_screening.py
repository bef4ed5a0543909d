"""Could a cheap flow screen out the pairs that DIS medium need not see? For every consecutive
pair of each clip (×3 downsampled, as the flow rule decodes it) this computes the `region`
statistic with DIS ultrafast (1.3 CPU-ms a pair) and with DIS medium (the default, 11), and
prints, per screening threshold T: the pairs that ultrafast puts above T while medium puts them
at or below the selection's 1 px (a screen at T would reject them wrongly and change the
selection), and the share of pairs such a screen would spare medium (those within the guard of
4 pairs of a screened pair, whose windows fail anyway).

    python benchmarks/flow_screening.py --clip X [--clip Y ...]

Without ``--clip`` it renders the 4 s clip of docs/scaling.md (demo-test-b, 1280×720, 240 fps).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")  # before tqdm is imported

import cv2
import numpy as np

from wilddeblur.dataset.select import SelectionSettings, guarded
from wilddeblur.flow.backends import dis
from wilddeblur.flow.stats import inner, region_max
from wilddeblur.video.demo import render_clip
from wilddeblur.video.downsample import stream_video
from wilddeblur.video.probe import probe

THRESHOLDS = (1.5, 2.0, 3.0, 4.0)


def region_values(clip: Path, preset: str) -> np.ndarray:
    """The `region` statistic of every consecutive pair of ``clip`` with DIS ``preset``."""
    chunks: list[np.ndarray] = []
    stream_video(probe(clip), 3, chunks.append)
    frames, flow = np.concatenate(chunks), dis(preset)
    out = []
    for frame1, frame2 in zip(frames[:-1], frames[1:], strict=True):
        core = inner(flow(frame1, frame2), 16)
        out.append(region_max(cv2.magnitude(core[..., 0], core[..., 1]).ravel(), 64))
    return np.array(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clip", type=Path, action="append", default=[])
    args = p.parse_args()
    settings = SelectionSettings()
    with tempfile.TemporaryDirectory() as tmp:
        clips = args.clip
        if not clips:
            clips = [Path(tmp) / "demo-test-b.mp4"]
            render_clip("demo-test-b", clips[0], seconds=4.0)
        for clip in clips:
            fast, slow = region_values(clip, "ultrafast"), region_values(clip, "medium")
            calm = slow <= settings.threshold
            print(f"{clip.name}: {len(slow)} pairs, {calm.mean():.0%} at most "
                  f"{settings.threshold:g} px by DIS medium; ultrafast puts those up to "
                  f"{fast[calm].max():.2f} px")
            for t in THRESHOLDS:
                screened = fast > t
                spared = ~guarded(~screened, settings.guard_pairs)
                print(f"  screen at {t:g} px: {int((screened & calm).sum())} calm pairs "
                      f"rejected wrongly; medium spared on {spared.mean():.0%} of the pairs")


if __name__ == "__main__":
    main()
