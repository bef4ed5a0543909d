"""Each network's gain over the blurry input on a test split, as the report's first lines give
it: on every test image, on the blurred ones (blur size >= 1 px) and the share improved.

    wilddeblur evaluate --manifest M --method blurry -o blurry.csv
    wilddeblur evaluate --manifest M --method NAFNetWILD --checkpoint model.pt -o nafnet.csv
    python benchmarks/network_gains.py --manifest M blurry.csv nafnet.csv

The evaluations are ``wilddeblur evaluate`` tables (one of them the blurry input's).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from wilddeblur.report.networks import network_gains
from wilddeblur.report.tables import markdown_table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", type=Path, required=True)
    ap.add_argument("evaluations", nargs="+", type=Path)
    args = ap.parse_args()
    per_image = pd.concat([pd.read_csv(p) for p in args.evaluations], ignore_index=True)
    networks = [m for m in per_image["method"].unique() if m != "blurry"]
    gains = network_gains(per_image, networks, pd.read_csv(args.manifest))
    blurry = per_image.loc[per_image["method"] == "blurry", "psnr"].mean()
    print(f"blurry input: {blurry:.2f} dB on {int((per_image['method'] == 'blurry').sum())} "
          "test images")
    print(markdown_table(gains))


if __name__ == "__main__":
    main()
