"""How well each flow statistic picks ghost-free pairs (§2 step 3), on clips whose true motion is
known: the demo clips, three clips rendered here (a slow pan, a fast pan, and a still camera
with a 20×20 px object crossing at 4 px per frame and then stopping) and camera-like clips
(:mod:`wilddeblur.video.camera`: a low-texture scene, sensor noise, x264 at 6 Mb/s with a key
frame every 8 to 15 frames, a still or hand-held camera; issue 31).

For every consecutive pair, the true flow on the downsampled grid says whether some region of
at least ``--gt-region-px`` pixels moves more than 1 px (a pair that would ghost) or nothing
moves more than 1 px (a calm pair). For each backend and statistic:

* ghost rate: ghost-prone pairs that the 1 px threshold keeps / ghost-prone pairs;
* waste rate: calm pairs that it rejects / calm pairs.

The statistics themselves are taken without ``flow.evidence`` (as before issue 31). It also
sweeps ``flow.region_px`` and ``flow.evidence`` (statistics named ``STAT@eLEVELS``;
on the camera clips, how far each key frame's pair reads from its two neighbours and how many
windows a still camera keeps), and asks whether the local matching error (§2 step 4 on 16×16
tiles) flags ghost-prone pairs that a statistic keeps. Usage::

    python benchmarks/selection_accuracy.py [--clips results/demo/*.mp4] [--out DIR]
        [--backends dis-medium farneback]

Without ``--clips`` the demo clips are rendered into ``--out`` first (1280×720, 240 fps, 2 s).
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from wilddeblur.dataset.select import SelectionSettings, guarded, select_windows
from wilddeblur.flow import STATISTICS, make_backend
from wilddeblur.flow.stats import EVIDENCE, pair_statistics, region_max
from wilddeblur.video.camera import render_camera_clip
from wilddeblur.video.demo import (
    DEMO_CLIPS,
    ground_truth_flow,
    motion_path,
    render_clip,
    render_pan_clip,
)
from wilddeblur.video.downsample import downsampled_size
from wilddeblur.video.io import decode_frames
from wilddeblur.video.probe import probe

FACTOR = 3
BACKENDS = {"dis-medium": ("dis", {"preset": "medium"}), "dis-fast": ("dis", {"preset": "fast"}),
            "farneback": ("farneback", {})}
REGION_SWEEP = (16, 32, 64, 128, 256)
EVIDENCE_SWEEP = tuple(sorted({1.0, 2.0, 3.0, 4.0, EVIDENCE}))
# Camera-like clips: name -> (object stretches (speed, seconds), options of render_camera_clip).
OBJECT = ((0.0, 0.5), (0.5, 0.25), (2.0, 0.25), (0.0, 0.5))
CAMERA_CLIPS = {
    "cam-still-g10": (OBJECT, {"gop": 10}),
    "cam-still-g8": (OBJECT, {"gop": 8, "seed": 1}),
    "cam-still-g12-3M": (OBJECT, {"gop": 12, "bitrate": "3M", "seed": 2}),
    "cam-still-g15-noise3": (OBJECT, {"gop": 15, "noise": 3.0, "seed": 3}),
    "cam-hand-g10": (OBJECT, {"gop": 10, "hand": True, "seed": 4}),
    "cam-pan-g10": (((0.0, 0.5), (1.0, 0.5)), {"gop": 10, "pan": 1.5, "hand": True,
                                               "seed": 5}),
}
LOCAL_THRESHOLDS = (0.03, 0.05, 0.08)


def true_motion(clip: Path, gt_region_px: int) -> pd.DataFrame:
    """Per pair: the largest true motion and the pixels moving > 1 px, downsampled grid."""
    motion = pd.read_csv(motion_path(clip))
    info = probe(clip)
    rows = []
    for t in range(len(motion) - 1):
        flow = ground_truth_flow(motion, t, (info.width, info.height), step=FACTOR) / FACTOR
        mag = np.hypot(flow[..., 0], flow[..., 1])
        rows.append({"pair": t, "gt_max": float(mag.max()), "gt_moving_px": int((mag > 1).sum())})
    out = pd.DataFrame(rows)
    out["ghost_prone"] = out["gt_moving_px"] >= gt_region_px
    out["calm"] = out["gt_max"] <= 1.0
    return out


def estimated(clip: Path, backends: list[str]) -> pd.DataFrame:
    """Per pair and backend: every statistic, the region and evidence sweeps and the two
    matching errors."""
    info = probe(clip)
    w, h = downsampled_size(info.width, info.height, FACTOR)
    engines = {name: make_backend(BACKENDS[name][0], **BACKENDS[name][1]) for name in backends}
    frames = np.concatenate(list(decode_frames(clip, w, h)))
    rows = []
    for name, engine in engines.items():
        for t in range(len(frames) - 1):
            flow = engine(frames[t], frames[t + 1])
            stats = pair_statistics(frames[t], frames[t + 1], flow, evidence=0)
            mag = cv2.magnitude(flow[..., 0], flow[..., 1]).ravel()
            sweep = {f"region_{a}": region_max(mag, a) for a in REGION_SWEEP}
            for level in EVIDENCE_SWEEP:
                seen = pair_statistics(frames[t], frames[t + 1], flow, evidence=level)
                sweep |= {f"{k}@e{level:g}": seen[k] for k in STATISTICS}
            rows.append({"backend": name, "pair": t, **stats, **sweep})
    return pd.DataFrame(rows)


def rates(df: pd.DataFrame, column: str, guard: int, threshold: float = 1.0) -> dict[str, float]:
    """Ghost and waste rates of one statistic with ``guard`` pairs (select.guard_pairs)."""
    kept = pd.concat([pd.Series(guarded((g[column] <= threshold).to_numpy(), guard), g.index)
                      for _, g in df.sort_values("pair").groupby("clip")]).reindex(df.index)
    ghosts, calm = df["ghost_prone"], df["calm"]
    return {"ghost_pairs": int(ghosts.sum()), "ghosts_kept": int((kept & ghosts).sum()),
            "ghost_rate": (kept & ghosts).sum() / max(1, ghosts.sum()),
            "calm_pairs": int(calm.sum()), "calm_rejected": int((~kept & calm).sum()),
            "waste_rate": (~kept & calm).sum() / max(1, calm.sum())}


def refreshes(pairs: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """On the camera clips, per backend, clip and statistic: how far the pairs that end on a
    key frame after the first GOP (x264's rate control adds detail over its first P-frames)
    read from the mean of their two neighbours where all three are calm (median and largest
    gap, share within 0.2 px), and the windows kept at the default settings (and with the true
    motion as the statistic)."""
    rows = []
    camera = pairs[pairs["clip"].isin(list(CAMERA_CLIPS))]
    for (backend, clip), g in camera.groupby(["backend", "clip"], sort=False):
        g = g.sort_values("pair").reset_index(drop=True)
        calm = g["calm"].to_numpy()
        key = np.flatnonzero((g["pair"].to_numpy() + 1) % CAMERA_CLIPS[clip][1]["gop"] == 0)
        key = key[(key > CAMERA_CLIPS[clip][1]["gop"]) & (key < len(g) - 1)]  # see the doc
        key = key[calm[key] & calm[key - 1] & calm[key + 1]]
        if not key.size:
            continue
        truth = select_windows(clip, g.assign(region=g["gt_max"]), SelectionSettings())
        for c in columns:
            v = g[c].to_numpy()
            gap = np.abs(v[key] - (v[key - 1] + v[key + 1]) / 2)
            kept = select_windows(clip, g.assign(region=g[c]), SelectionSettings())["kept"]
            rows.append({"backend": backend, "clip": clip, "statistic": c,
                         "key_pairs": key.size, "gap_median": float(np.median(gap)),
                         "gap_max": float(gap.max()), "within_0.2": float((gap <= 0.2).mean()),
                         "windows_kept": int(kept.sum()),
                         "windows_true": int(truth["kept"].sum())})
    return pd.DataFrame(rows)


def decisions(pairs: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Per backend and statistic: the windows kept over all clips at the default settings, and
    how many of the windows tried differ (kept or not, or placed elsewhere) from those of the
    first column, in all and on the demo clips."""
    rows = []
    for backend, b in pairs.groupby("backend", sort=False):
        base = {clip: select_windows(clip, g.sort_values("pair").assign(region=g[columns[0]]),
                                     SelectionSettings())
                for clip, g in b.groupby("clip")}
        for c in columns:
            kept = differ = differ_demo = 0
            for clip, g in b.groupby("clip"):
                w = select_windows(clip, g.sort_values("pair").assign(region=g[c]),
                                   SelectionSettings())
                key = ["start", "ne", "kept"]
                changed = len(pd.concat([w[key], base[clip][key]]).drop_duplicates(keep=False))
                kept += int(w["kept"].sum())
                differ += changed
                differ_demo += changed if clip.startswith("demo-") else 0
            rows.append({"backend": backend, "statistic": c, "windows_kept": kept,
                         "windows_changed": differ, "of_them_demo": differ_demo})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", nargs="*", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/out/selection_accuracy"))
    ap.add_argument("--gt-region-px", type=int, default=64,
                    help="a pair is ghost-prone when this many pixels truly move > 1 px")
    ap.add_argument("--pairs", type=Path, default=None,
                    help="reuse the per-pair table (pairs.csv) of an earlier run")
    ap.add_argument("--backends", nargs="+", choices=list(BACKENDS), default=list(BACKENDS))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    clips = list(args.clips or [])
    if not clips and not args.pairs:
        for name in DEMO_CLIPS:
            clip = args.out / f"{name}.mp4"
            if not clip.exists():
                render_clip(name, clip)
            clips.append(clip)
    for name, speed, small in (("pan-0.5px", 0.5, 0.0), ("pan-0.8px", 0.8, 0.0),
                               ("pan-1.3px", 1.3, 0.0), ("still-small-4px", 0.0, 4.0)):
        clip = args.out / f"{name}.mp4"
        if not clip.exists() and not args.pairs:
            render_pan_clip(clip, speed, small)
        clips.append(clip)
    for name, (stretches, options) in CAMERA_CLIPS.items():
        clip = args.out / f"{name}.mp4"
        if not clip.exists() and not args.pairs:
            render_camera_clip(clip, stretches, **options)
        clips.append(clip)

    if args.pairs:  # an earlier run's per-pair table: only the rates are computed again
        pairs = pd.read_csv(args.pairs)
    else:
        tables = []
        for clip in clips:
            est = estimated(clip, args.backends).merge(true_motion(clip, args.gt_region_px),
                                                       on="pair")
            est.insert(0, "clip", clip.stem)
            tables.append(est)
        pairs = pd.concat(tables, ignore_index=True)
        pairs.to_csv(args.out / "pairs.csv", index=False)

    print(f"# selection accuracy: {pairs['clip'].nunique()} clips, "
          f"{pairs['pair'].size // pairs['backend'].nunique()} "
          f"pairs; ghost-prone = >= {args.gt_region_px} px truly moving > 1 px; threshold 1 px")
    print(f"# machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"opencv {cv2.__version__}; {time.time() - t0:.0f} s")
    default_guard = SelectionSettings().guard_pairs
    seen = [f"{k}@e{level:g}" for level in EVIDENCE_SWEEP for k in STATISTICS]
    stat_cols = [*STATISTICS, *(f"region_{a}" for a in REGION_SWEEP), *seen]
    rows = [{"backend": b, "statistic": c, "guard": guard, **rates(g, c, guard)}
            for b, g in pairs.groupby("backend", sort=False) for c in stat_cols
            for guard in sorted({0, default_guard})]
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "rates.csv", index=False)
    print("\n## all clips\n" + table.to_string(index=False, float_format="{:.3f}".format))

    print(f"\n## per clip, dis-medium, guard {default_guard}")
    dis = pairs[pairs["backend"] == "dis-medium"]
    per_clip = pd.DataFrame([{"clip": c, "statistic": s, **rates(g, s, default_guard)}
                             for c, g in dis.groupby("clip")
                             for s in [*STATISTICS, f"region@e{EVIDENCE:g}"]])
    print(per_clip.to_string(index=False, float_format="{:.3f}".format))

    evidence = ["region", *(f"region@e{level:g}" for level in EVIDENCE_SWEEP)]
    keys = refreshes(pairs, evidence)
    keys.to_csv(args.out / "refreshes.csv", index=False)
    print("\n## camera clips: pairs ending on a key frame (calm) against their neighbours")
    print(keys.to_string(index=False, float_format="{:.3f}".format))
    print("\n## windows at the default settings against those without flow.evidence")
    print(decisions(pairs, evidence).to_string(index=False))
    print(f"\n## flow.evidence: all clips, guard {default_guard}")
    print(table[(table["guard"] == default_guard) & table["statistic"].isin(evidence)]
          .to_string(index=False, float_format="{:.3f}".format))

    print("\n## local matching error: ghost-prone pairs a statistic keeps that it flags")
    out = []
    for b, g in pairs.groupby("backend", sort=False):
        for c in STATISTICS:
            missed = g[(g[c] <= 1.0) & g["ghost_prone"]]
            for thr in LOCAL_THRESHOLDS:
                calm = g[g["calm"] & (g[c] <= 1.0)]
                out.append({"backend": b, "statistic": c, "local_threshold": thr,
                            "ghosts_kept": len(missed),
                            "flagged": int((missed["match_err_local"] > thr).sum()),
                            "calm_kept_now_rejected": int((calm["match_err_local"] > thr).sum())})
    print(pd.DataFrame(out).to_string(index=False))
    q = pairs.groupby(["backend", "calm"])["match_err_local"].quantile([0.5, 0.99]).unstack()
    print("\nmatch_err_local quantiles (calm = True / False):\n" + q.to_string())
    q = pairs.groupby(["backend", "calm"])["match_err"].quantile([0.5, 0.99, 1.0]).unstack()
    print("\nmatch_err (global) quantiles:\n" + q.to_string())


if __name__ == "__main__":
    main()
