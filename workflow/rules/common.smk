# Inputs, splits and helpers shared by the rule files.
import hashlib
import json
import os
import re
import shlex

import pandas as pd

import wilddeblur
from wilddeblur.video.inputs import demo_splits, demo_videos, resolve_videos

if config["videos"]:
    VIDEOS = resolve_videos(config["videos"])
    FIXED_SPLITS = {}
else:
    VIDEOS = demo_videos(config["demo"]["clips"])
    FIXED_SPLITS = demo_splits(config["demo"]["clips"])

unknown_fps = sorted(set(config["fps_override"]) - set(VIDEOS))
if unknown_fps:
    raise ValueError(f"fps_override: no input video is named {unknown_fps}")

CODE_VERSION = wilddeblur.__version__
FLOW_WEIGHTS = [config["flow"]["weights"]] if config["flow"]["weights"] else []
# Classical flow is computed while the video is decoded (one streaming pass per video);
# learned flow (FlowNet) runs as its own job over the frame store, on a GPU when present.
STREAM_FLOW = config["flow"]["backend"] in ("dis", "farneback")
if config["flow"]["backend"].startswith("flownet") and not FLOW_WEIGHTS:
    raise ValueError(
        f"flow.weights: the {config['flow']['backend']} backend needs a weights file"
    )


wildcard_constraints:
    video="|".join(re.escape(v) for v in VIDEOS) or "NONE",
    split="train|test",
    shard=r"\d{5}",
    model="DeblurNet[A-Za-z]+",


def settings_hash(*keys):
    """Hash of the config sections that shape an output, and of the package version."""
    blob = json.dumps(
        {k: config[k] for k in keys} | {"version": CODE_VERSION}, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cli_flags(section, skip=()):
    """A config section as `wilddeblur` flags (--key value, --flag / --no-flag, none if null)."""
    out = []
    for key, value in config[section].items():
        if key in skip or value is None:
            continue
        name = key.replace("_", "-")
        if isinstance(value, bool):
            out.append(f"--{name}" if value else f"--no-{name}")
        else:
            out += [f"--{name}", shlex.quote(str(value))]
    return " ".join(out)


# Several GPUs: one process per GPU through torchrun (DDP); otherwise a plain process.
TRAIN_LAUNCHER = (
    f"torchrun --standalone --nproc-per-node {config['resources']['train_gpu']} -m wilddeblur"
    if config["resources"]["train_gpu"] > 1
    else "wilddeblur"
)

DATASET_HASH = settings_hash(
    "seed", "downsample", "flow", "select", "split", "average", "dataset"
)

# Data-dependent inputs, known once the `select` checkpoint has run.


def kept_windows():
    sel = pd.read_csv(checkpoints.select.get().output[0])
    return sel[sel["kept"]]


def shard_videos(wildcards):
    kept = kept_windows()
    rows = kept[
        (kept["split"] == wildcards.split) & (kept["shard"] == int(wildcards.shard))
    ]
    return [f"results/frames/{v}.h5" for v in sorted(rows["video"].unique())]


def all_shards(wildcards):
    pairs = kept_windows()[["split", "shard"]].drop_duplicates()
    return sorted(
        f"results/dataset/{s}/shard-{k:05d}.h5"
        for s, k in pairs.itertuples(index=False)
    )


# Other authors' test sets (config `external`) and the report's figures.

EXTERNAL_SETS = {}
if config["external"]["gopro_root"]:
    EXTERNAL_SETS["gopro"] = (
        f"--gopro-root {shlex.quote(config['external']['gopro_root'])}"
        f" --gopro-blur-dir {config['external']['gopro_blur_dir']}"
    )
if config["external"]["realblur_list"]:
    EXTERNAL_SETS["realblur"] = " ".join(
        ["--list", shlex.quote(config["external"]["realblur_list"])]
        + (
            ["--list-root", shlex.quote(config["external"]["realblur_root"])]
            if config["external"]["realblur_root"]
            else []
        )
    )
EXTERNAL_EVALUATIONS = expand(
    "results/evaluate/external/{set}/{method}.csv",
    set=list(EXTERNAL_SETS),
    method=config["external"]["methods"],
)


def external_model(wildcards):
    """The checkpoint a method needs on an external set (none for the blurry input)."""
    if wildcards.method == "blurry":
        return []
    return f"results/train/{wildcards.method}/model.pt"


def fig9_labels(wildcards, output):
    """Report label with Fig. 9's correlation, read by `snakemake --report` after the run."""
    with open(output.figures_json) as fh:
        r = json.load(fh)["residual_vs_blur"]["stats"]["pearson_r"]
    return {"figure": "Fig. 9", "Pearson r": "n/a" if r is None else f"{r:.3f}"}
