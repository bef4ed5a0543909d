# Inputs, splits and helpers shared by the rule files.
import copy
import hashlib
import json
import os
import re
from dataclasses import asdict

import pandas as pd

from snakemake.logging import logger

import wilddeblur
from wilddeblur.dataset.select import SelectionSettings, assign_splits, check_splits
from wilddeblur.training.sizes import fit_sizes, video_frames
from wilddeblur.errors import ConfigError, one_line
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.models import registry
from wilddeblur.models.registry import (
    arch_of_label,
    arch_params,
    labels,
    name_pattern,
    run_names,
)
from wilddeblur.training.settings import settings_for_arch
from wilddeblur.video.inputs import demo_splits, demo_videos, resolve_videos

# Errors in the inputs or the settings stop the run here, before any decoding, in one line.
with one_line():
    if config["videos"]:
        VIDEOS = resolve_videos(config["videos"])
        FIXED_SPLITS = {}
    else:
        VIDEOS = demo_videos(config["demo"]["clips"])
        FIXED_SPLITS = demo_splits(config["demo"]["clips"])
    unknown_fps = sorted(set(config["fps_override"]) - set(VIDEOS))
    if unknown_fps:
        raise ConfigError(f"fps_override: no input video is named {unknown_fps}")
    # Classical flow runs on the CPU; learned flow (FlowNet) asks for a GPU when one is
    # configured. FlowSettings checks the section (a FlowNet backend needs flow.weights).
    CLASSICAL_FLOW = FlowSettings(**config["flow"]).classical
    # The flow check the flow stage skips pairs by (flow.skip), as select will apply it.
    FLOW_SKIP = (
        asdict(
            SelectionSettings(
                **config["select"],
                seed=config["seed"],
                interpolate=config["interpolate"]["factor"],
            ).skip_rule
        )
        if config["flow"]["skip"]
        else None
    )
    # A split that would be empty is refused; one video alone is split in time (said here).
    SPLIT_NOTE = check_splits(
        list(VIDEOS),
        config["split"]["test_videos"],
        config["split"]["test_fraction"],
        FIXED_SPLITS,
    )
    # The split of each video (as select draws it), for the check of the frame sizes.
    VIDEO_SPLITS = assign_splits(
        list(VIDEOS),
        config["split"]["test_videos"],
        config["split"]["test_fraction"],
        config["seed"],
        FIXED_SPLITS,
    )
# The sections of `train` holding a network's own recipe (train.nafnet, ...).
TRAIN_SECTIONS = [a.train_section for a in registry.ARCHS.values() if a.train_section]
# What the check of the frame sizes reads (a change of anything else does not run it again).
SIZE_SETTINGS = {
    "model": {"arch": config["model"]["arch"]},
    "train": {"crop": config["train"]["crop"]}
    | {
        a: {"crop": config["train"][a]["crop"]}
        for a in TRAIN_SECTIONS
        if "crop" in config["train"].get(a, {})
    },
    "si": {"wild_sharp": config["si"]["wild_sharp"]},
    "baselines": {
        m: {k: v for k, v in config["baselines"][m].items() if k == "kernel_size"}
        for m in ("l0", "xu_jia")
    }
    | {
        "sun2015_train": {
            k: config["baselines"]["sun2015_train"][k] for k in ("max_length", "photos")
        }
    },
}
if SPLIT_NOTE:
    logger.warning(SPLIT_NOTE)
# Once every video is probed, each start checks the frame sizes against these settings (the
# first time, checkpoint `sizes` does, before any decoding): what adapts says so, what cannot
# work stops the run here in one line.
PROBES = [f"results/probe/{v}.json" for v in VIDEOS]
if all(os.path.exists(p) for p in PROBES):
    with one_line():
        for note in fit_sizes(
            video_frames(PROBES, VIDEO_SPLITS, config["downsample"]["factor"]),
            SIZE_SETTINGS,
        )[1]:
            logger.warning(note)

CODE_VERSION = wilddeblur.__version__
FLOW_WEIGHTS = [config["flow"]["weights"]] if config["flow"]["weights"] else []


wildcard_constraints:
    video="|".join(re.escape(v) for v in VIDEOS) or "NONE",
    split="train|test",
    shard=r"\d{5}",
    model=name_pattern(),
    net="|".join(labels().values()),


# Keys added after the first datasets were built, left out of the settings hash while they hold
# these values (their defaults): a default build keeps its shards (and trained networks) as
# they are.
LATER_DEFAULTS = {
    "flow": {"skip": True},
    "interpolate": {"factor": 1},
    "average": {
        "noise": "gaussian",
        "saturation": "none",
        "saturation_range": [0.25, 1.75],
    },
    "train": {"accumulate": 1, "ema": 0.0, "grad_clip": 0.0},  # in network_hash
}


def hashed(key):
    """Config section ``key`` as the hash sees it (None: left out)."""
    later = LATER_DEFAULTS.get(key, {})
    section = {k: v for k, v in config[key].items() if k not in later or later[k] != v}
    return section if section or key not in LATER_DEFAULTS else None


def settings_hash(*keys):
    """Hash of the config sections that shape an output, and of the package version."""
    sections = {
        k: config[k] if not isinstance(config[k], dict) else hashed(k) for k in keys
    }
    blob = json.dumps(
        {k: v for k, v in sections.items() if v is not None}
        | {"version": CODE_VERSION},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


DATASET_HASH = settings_hash(
    "seed", "downsample", "flow", "select", "split", "interpolate", "average", "dataset"
)

# The trained networks (model.arch): DeblurNetWILD, DeblurNetSI, NAFNetWILD, NAFNetSI, ...
NETWORKS = run_names(config["model"]["arch"])


def network_hash(*keys):
    """Param function: the hash of what shapes a network's training (its resolved train
    settings, its hyper-parameters, config ``keys``) and of the dataset; another network's
    settings do not enter it."""

    def value(wildcards):
        arch = arch_of_label(wildcards.net)
        blob = json.dumps(
            {
                "train": {
                    k: v
                    for k, v in vars(settings_for_arch(config["train"], arch)).items()
                    if LATER_DEFAULTS["train"].get(k, ...) != v
                },
                "model": arch_params(config["model"], arch),
                "version": CODE_VERSION,
            }
            | {k: config[k] for k in keys},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16] + DATASET_HASH

    return value


def init_weights_file(wildcards):
    """Input function: the network's train.init_from, when set (a changed file retrains it)."""
    arch = arch_of_label(wildcards.net)
    path = settings_for_arch(config["train"], arch).init_from
    return [path] if path else []


# Settings adapted to the frame sizes, known once the `sizes` checkpoint has run (probe.smk).

SIZES = "results/probe/sizes.json"


def checked_probe(wildcards):
    """Input function of flow: the video's probe; a first decoding waits for the check of
    the frame sizes. A flow table already made does not: each start checks the sizes then
    (above), and checkpoint `sizes` to be run again would make select run again."""
    if not os.path.exists(f"results/flow/{wildcards.video}.csv"):
        checkpoints.sizes.get()
    return f"results/probe/{wildcards.video}.json"


def fitted_sizes():
    """``(adapted, notes)``: the settings adapted to the frame sizes and a line for each
    (wilddeblur.training.sizes.fit_sizes), from the probes and the config as they are now; none
    before every video is probed (a job reading this then is a placeholder, made again once
    the checkpoints have run) or when the sizes cannot work (checkpoint `sizes` says why).
    """
    if all(os.path.exists(p) for p in PROBES):
        try:
            frames = video_frames(PROBES, VIDEO_SPLITS, config["downsample"]["factor"])
            return fit_sizes(frames, SIZE_SETTINGS)
        except ConfigError:
            pass
    return {"train": {}, "baselines": {"wild": {}, "si": {}}}, []


def adapted_sizes():
    return fitted_sizes()[0]


def size_notes():
    """Report context: what was adapted to the frame sizes (no key when nothing was)."""
    notes = fitted_sizes()[1]
    return {"sizes": notes} if notes else {}


def sized_train(data):
    """Param function: config `train`, with {net}{data}'s crop as the frames allow."""

    def value(wildcards):
        crop = adapted_sizes()["train"].get(f"{wildcards.net}{data}")
        if crop is None:
            return config["train"]
        own = registry.get(arch_of_label(wildcards.net)).train_section
        section = copy.deepcopy(config["train"])
        (section.setdefault(own, {}) if own else section)["crop"] = crop
        return section

    return value


def sized_baseline(where, method=None):
    """Param function: config `baselines.<method>` (default: the {baseline}'s), with the
    kernel side that the images of `where` (wild, si) allow."""

    def value(wildcards):
        name = method or BASELINE_METHODS[wildcards.baseline]
        kernel = adapted_sizes()["baselines"][where].get(name)
        params = config["baselines"][name]
        return params if kernel is None else params | {"kernel_size": kernel}

    return value


# Data-dependent inputs, known once the `select` checkpoint has run.


def kept_windows():
    sel = pd.read_csv(checkpoints.select.get().output[0])
    return sel[sel["kept"]]


def shard_video_names(wildcards):
    kept = kept_windows()
    rows = kept[
        (kept["split"] == wildcards.split) & (kept["shard"] == int(wildcards.shard))
    ]
    return sorted(rows["video"].unique())


def shard_videos(wildcards):
    """Input function: the source videos a shard decodes again."""
    return [VIDEOS[v] for v in shard_video_names(wildcards)]


def shard_probes(wildcards):
    return [f"results/probe/{v}.json" for v in shard_video_names(wildcards)]


def shard_flows(wildcards):
    """Input function: the flow tables, whose frame fingerprints let a shard seek."""
    return [f"results/flow/{v}.csv" for v in shard_video_names(wildcards)]


def all_shards(wildcards):
    pairs = kept_windows()[["split", "shard"]].drop_duplicates()
    return sorted(
        f"results/dataset/{s}/shard-{k:05d}.h5"
        for s, k in pairs.itertuples(index=False)
    )


def split_shards(*splits):
    """Input function: the shards of these splits (the files a job reads via the manifest)."""

    def shards(wildcards):
        return [f for f in all_shards(wildcards) if f.split("/")[2] in splits]

    return shards


SI_TEST_SHARD = "results/si/test/shard-00000.h5"


# Other authors' test sets (config `external`) and the report's figures.

EXTERNAL_SETS = (
    {}
)  # set name -> where its pairs are (arguments of evaluate_external_set)
if config["external"]["gopro_root"]:
    EXTERNAL_SETS["gopro"] = {
        "gopro_root": config["external"]["gopro_root"],
        "gopro_blur_dir": config["external"]["gopro_blur_dir"],
    }
if config["external"]["realblur_list"]:
    EXTERNAL_SETS["realblur"] = {
        "list_file": config["external"]["realblur_list"],
        "list_root": config["external"]["realblur_root"],
    }
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


# Table 2's baselines computed by baselines.smk's rules baseline_wild / baseline_si:
# file name -> method of wilddeblur.evaluation.baselines (also its key prefix under `baselines`)
BASELINE_METHODS = {"XuJia2010": "xu_jia", "Sun2015": "sun2015"}
SUN_CHECKPOINT = "results/baselines/sun2015/model.pt"


def baseline_checkpoint(wildcards):
    return [SUN_CHECKPOINT] if wildcards.baseline == "Sun2015" else []


def baseline_key(key):
    """Input/param function: config `baselines.<method>_<key>`."""

    def value(wildcards):
        return config["baselines"][f"{BASELINE_METHODS[wildcards.baseline]}_{key}"]

    return value
