"""Trained networks on the real motion-blurred photos that packages ship (no ground truth):
scikit-image's ``clock`` and, where Debian's ``opencv-doc`` is installed,
``licenseplate_motion.jpg`` and ``text_motion.jpg``. One figure per checkpoint, input | output.

    python benchmarks/real_photos.py results/train/NAFNetWILD/model.pt [more.pt ...] \\
        --out docs/results [--max-side 640]

Prints each photo's size, downsampling factor and seconds per network.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wilddeblur.evaluation.external import read_rgb
from wilddeblur.models.registry import load_model
from wilddeblur.report.real_blurry import demo_real_blurry, real_blurry_panel

OPENCV_DOC = Path("/usr/share/doc/opencv-doc/examples/data")
OPENCV_PHOTOS = ("licenseplate_motion.jpg", "text_motion.jpg")


def photos() -> list:
    found = [demo_real_blurry()]
    found += [(name, read_rgb(OPENCV_DOC / name)) for name in OPENCV_PHOTOS
              if (OPENCV_DOC / name).exists()]
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoints", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path("."))
    ap.add_argument("--max-side", type=int, default=640)
    args = ap.parse_args()
    images = photos()
    for ckpt in args.checkpoints:
        name = ckpt.parent.name
        fig = real_blurry_panel(images, load_model(ckpt), args.out / f"real_photos_{name}.png",
                                max_side=args.max_side, method=name)
        print(name, fig.path, fig.stats["images"])


if __name__ == "__main__":
    main()
