"""Benchmark: train FlowNetS on synthetic pairs for a few minutes, then compare its end-point
error with DIS (medium) and Farnebäck on held-out synthetic pairs (photos never used in
training), on pairs of the demo's test clip (true motion), and on known global shifts.

    .venv/bin/python benchmarks/train_flow.py --minutes 5            # CPU, small frames
    python benchmarks/train_flow.py --device cuda --workers 12 --height 384 --width 512 \\
        --batch-size 8 --minutes 4.5                                  # a GPU, FlyingChairs size

Writes ``--out`` (default benchmarks/out/train_flow): the training folder of ``train_flownet``
(log.csv, epe.csv, epe_pairs.csv, the weights) and summary.json. ``--save-demo-npz`` /
``--demo-npz`` and ``--save-photos-npz`` / ``--photos-npz`` carry the demo pairs and the
photos to a machine without ffmpeg or without scikit-image's photos.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch

from wilddeblur.flow import synthetic
from wilddeblur.flow.backends import dis, farneback
from wilddeblur.flow.flownet import estimate_flow
from wilddeblur.flow.synthetic import SyntheticSpec
from wilddeblur.flow.train_flow import demo_pairs, train_flownet
from wilddeblur.flow.train_settings import FlowTrainSettings

SHIFTS = [(0.5, -0.3), (1.0, 0.0), (1.5, -0.8), (-2.0, 1.0), (3.0, 2.0)]
PHOTOS = (*synthetic.TRAIN_PHOTOS, *synthetic.HELDOUT_PHOTOS)


def shifted_pair(h: int, w: int, dx: float, dy: float) -> tuple[np.ndarray, np.ndarray]:
    """A held-out photo and the same photo moved by (dx, dy): the true flow is (dx, dy)."""
    img = synthetic.load_photo("motorcycle_left")
    scale = 1.2 * max(h / img.shape[0], w / img.shape[1])
    img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    y0, x0 = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    f1 = np.clip(img[y0:y0 + h, x0:x0 + w] + 0.5, 0, 255).astype(np.uint8)
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    f2 = cv2.warpAffine(f1, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    return f1, f2


def known_shifts(model, h: int, w: int) -> list[dict]:
    methods = {"flownets-trained": lambda a, b: estimate_flow(model, a, b),
               "dis-medium": dis("medium"), "farneback": farneback()}
    rows = []
    m = max(8, min(h, w) // 6)
    for dx, dy in SHIFTS:
        f1, f2 = shifted_pair(h, w, dx, dy)
        for name, fn in methods.items():
            inner = fn(f1, f2)[m:-m, m:-m]
            rows.append({"shift": [dx, dy], "method": name,
                         "median": [float(np.median(inner[..., 0])),
                                    float(np.median(inner[..., 1]))],
                         "epe": float(np.hypot(inner[..., 0] - dx, inner[..., 1] - dy).mean())})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=5.0, help="training time")
    ap.add_argument("--out", default="benchmarks/out/train_flow")
    ap.add_argument("--resume", action="store_true", help="keep --out and continue training")
    ap.add_argument("--height", type=int, default=96)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--eval-pairs", type=int, default=32)
    ap.add_argument("--demo-clip", default="results/demo/demo-test-a.mp4",
                    help="demo clip with its motion table (skipped if missing)")
    ap.add_argument("--demo-pairs", type=int, default=8)
    ap.add_argument("--demo-npz", default=None, help="demo pairs saved by --save-demo-npz")
    ap.add_argument("--save-demo-npz", default=None, help="save the demo pairs and exit")
    ap.add_argument("--photos-npz", default=None, help="photos saved by --save-photos-npz")
    ap.add_argument("--save-photos-npz", default=None, help="save the photos and exit")
    args = ap.parse_args()

    if args.save_photos_npz or args.save_demo_npz:
        if args.save_photos_npz:
            np.savez_compressed(args.save_photos_npz, **{
                n: synthetic.load_photo(n).astype(np.uint8) for n in PHOTOS})
        if args.save_demo_npz:
            pairs = demo_pairs(args.demo_clip, args.demo_pairs)
            np.savez_compressed(args.save_demo_npz, **{
                f"{k}_{key}": np.asarray(p[key]) for k, p in enumerate(pairs)
                for key in ("data", "pair", "frame1", "frame2", "flow")})
        return
    if args.photos_npz:  # a scikit-image without the photos: use the carried ones
        with np.load(args.photos_npz) as z:
            photos = {n: np.ascontiguousarray(z[n], dtype=np.float32) for n in z.files}
        synthetic.load_photo = photos.__getitem__

    extra: list[dict] = []
    clips: list[str] = []
    if args.demo_npz:
        with np.load(args.demo_npz) as z:
            n = len({k.split("_")[0] for k in z.files})
            extra = [{key: z[f"{k}_{key}"] for key in ("frame1", "frame2", "flow")}
                     | {"data": str(z[f"{k}_data"]), "pair": int(z[f"{k}_pair"])}
                     for k in range(n)]
    elif args.demo_clip and Path(args.demo_clip).is_file():
        clips = [args.demo_clip]

    out = Path(args.out)
    if out.exists() and not args.resume:
        shutil.rmtree(out)
    s = FlowTrainSettings(steps=1_000_000, batch_size=args.batch_size, lr=args.lr,
                          synthetic=SyntheticSpec(height=args.height, width=args.width),
                          eval_pairs=args.eval_pairs, demo_pairs=args.demo_pairs,
                          checkpoint_every=1_000_000, log_every=10, workers=args.workers,
                          device=args.device)
    t0 = time.time()
    result = train_flownet(out, s, clips, extra_pairs=extra, time_limit_s=60 * args.minutes)
    wall = time.time() - t0
    assert result is not None
    log = pd.read_csv(out / "log.csv")
    from wilddeblur.flow.flownet import load_flownet

    model = load_flownet(result["weights"])
    if torch.cuda.is_available() and args.device != "cpu":
        model.cuda()
    shifts = known_shifts(model, args.height, args.width)
    device = (torch.cuda.get_device_name() if torch.cuda.is_available() and args.device != "cpu"
              else f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
                   f"{torch.get_num_threads()} torch threads")
    summary = {
        "device": device, "torch": torch.__version__, "settings": vars(args),
        "steps": result["step"], "wall_seconds": wall,
        "train_seconds": float(log["seconds"].iloc[-1]) if len(log) else 0.0,
        "loss_first_last": [float(log["loss"].iloc[0]), float(log["loss"].iloc[-1])]
        if len(log) else [],
        "train_epe_last": float(log["epe"].iloc[-1]) if len(log) else None,
        "train_epe_last100_mean": float(log["epe"].tail(10).mean()) if len(log) else None,
        "epe": result["summary"].to_dict(orient="records"),
        "known_shifts": shifts,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"\n{device}; {result['step']} steps of batch {args.batch_size} at "
          f"{args.height}x{args.width} in {summary['train_seconds']:.0f} s")
    if len(log):
        print(f"loss {summary['loss_first_last'][0]:.4g} -> {summary['loss_first_last'][1]:.4g}; "
              f"train EPE (last logged batch) {summary['train_epe_last']:.3f} px, "
              f"mean of the last 10 logged {summary['train_epe_last100_mean']:.3f} px")
    print("\nEPE (px), mean over pairs; p99_err = |p99 |flow| - true p99|:")
    print(result["summary"].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\nknown global shifts (held-out photo), median flow of the inner region:")
    for r in shifts:
        print(f"  true ({r['shift'][0]:+.2f}, {r['shift'][1]:+.2f})  {r['method']:17s} "
              f"({r['median'][0]:+.2f}, {r['median'][1]:+.2f})  EPE {r['epe']:.3f}")


if __name__ == "__main__":
    main()
