# Inputs, splits and helpers shared by the rule files.
import hashlib
import json
import re
import shlex

import pandas as pd

import wilddeblur
from wilddeblur.inputs import demo_splits, demo_videos, resolve_videos

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


DATASET_HASH = settings_hash("seed", "downsample", "flow", "select", "split", "dataset")

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
