"""One source of defaults: the config schema. Every settings dataclass, every stage function
the scripts call and every `wilddeblur` flag that stands for a config key defaults to the
schema's value, and every key of a section is a field of its settings (so that the scripts can
build the settings from the validated section)."""

from __future__ import annotations

import argparse
import dataclasses
import inspect

import pytest
import yaml

from tests.conftest import ROOT
from wilddeblur.cli import build_parser
from wilddeblur.dataset.average import Averaging
from wilddeblur.dataset.select import SelectionSettings
from wilddeblur.dataset.stages import average, select
from wilddeblur.evaluation.stages import evaluate_external_set
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.flow.stages import flow_stage
from wilddeblur.flow.synthetic import SyntheticSpec
from wilddeblur.flow.train_settings import FlowTrainSettings
from wilddeblur.models import registry
from wilddeblur.models.nafnet_arch import NAFNet
from wilddeblur.training.settings import TrainSettings
from wilddeblur.training.stages import SyntheticBlur, kernel_bank, si_test_shard
from wilddeblur.video.demo import render_clip
from wilddeblur.video.stages import probe_video

SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())


def schema_default(path: str):
    node = {"properties": SCHEMA["properties"]}
    for key in path.split("."):
        node = node["properties"][key]
    return node["default"]


def section_keys(section: str) -> set[str]:
    return set(SCHEMA["properties"][section]["properties"])


def same(a, b) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return list(a) == list(b)
    return a == b and type(a) is not bool or a is b


SYNTHETIC = tuple(f.name for f in dataclasses.fields(SyntheticSpec))
FLOW_TRAIN = tuple(f.name for f in dataclasses.fields(FlowTrainSettings))
# dataclass -> (its config section, keys of the section it leaves out, extra field -> key)
SETTINGS = {
    TrainSettings: ("train", tuple(a.train_section for a in registry.ARCHS.values()
                                   if a.train_section), {"seed": "seed"}),
    SelectionSettings: ("select", (), {"seed": "seed"}),
    Averaging: ("average", (), {}),
    FlowSettings: ("flow", (), {}),
    FlowTrainSettings: ("train_flow", ("demo_clips", *SYNTHETIC), {"seed": "seed"}),
    SyntheticSpec: ("train_flow", ("demo_clips", *FLOW_TRAIN), {}),
    SyntheticBlur: ("si", ("kernels", "test_fraction", "weight_floor", "test_images"), {}),
}


@pytest.mark.parametrize("cls", list(SETTINGS), ids=lambda c: c.__name__)
def test_settings_defaults_are_the_schema_defaults(cls):
    section, left_out, extra = SETTINGS[cls]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    keys = section_keys(section) - set(left_out)
    assert keys <= set(fields), f"{section} keys without a {cls.__name__} field"
    for name, field in fields.items():
        path = extra.get(name, f"{section}.{name}")
        if name not in keys and name not in extra:
            continue  # not a config key (e.g. SyntheticBlur.bank)
        default = (field.default_factory() if field.default is dataclasses.MISSING
                   else field.default)
        assert same(default, schema_default(path)), (
            f"{cls.__name__}.{name} = {default!r}, schema {path} = {schema_default(path)!r}")


# stage function -> {parameter: schema key}
FUNCTIONS = {
    probe_video: {"min_fps": "probe.min_fps", "warn_fps": "probe.warn_fps",
                  "image_fps": "probe.image_fps"},
    render_clip: {"width": "demo.width", "height": "demo.height", "fps": "demo.fps",
                  "seconds": "demo.seconds", "seed": "seed", "factor": "downsample.factor"},
    flow_stage: {"factor": "downsample.factor"},
    select: {"test_fraction": "split.test_fraction",
             "samples_per_shard": "dataset.samples_per_shard", "factor": "downsample.factor"},
    average: {"seed": "seed", "factor": "downsample.factor"},
    kernel_bank: {"n": "si.kernels", "seed": "seed", "test_fraction": "si.test_fraction",
                  "weight_floor": "si.weight_floor"},
    si_test_shard: {"seed": "seed", "noise_sigma": "si.noise_sigma",
                    "max_images": "si.test_images"},
    NAFNet: {"width": "model.nafnet.width", "enc_blocks": "model.nafnet.enc_blocks",
             "middle_blocks": "model.nafnet.middle_blocks",
             "dec_blocks": "model.nafnet.dec_blocks"},
    evaluate_external_set: {"factor": "external.factor",
                            "gopro_blur_dir": "external.gopro_blur_dir",
                            "max_images": "external.max_images"},
}


@pytest.mark.parametrize("func", list(FUNCTIONS), ids=lambda f: f.__name__)
def test_stage_function_defaults_are_the_schema_defaults(func):
    params = inspect.signature(func).parameters
    for name, path in FUNCTIONS[func].items():
        assert same(params[name].default, schema_default(path)), (func.__name__, name)


# `wilddeblur COMMAND --flag` -> schema key, for the flags not made from a settings dataclass
FLAGS = {
    "demo": {"width": "demo.width", "height": "demo.height", "fps": "demo.fps",
             "seconds": "demo.seconds", "seed": "seed", "factor": "downsample.factor"},
    "probe": {"min_fps": "probe.min_fps", "warn_fps": "probe.warn_fps",
              "image_fps": "probe.image_fps"},
    "flow": {"factor": "downsample.factor", "statistic": "select.statistic",
             "threshold": "select.threshold", "interpolate": "interpolate.factor",
             "guard_pairs": "select.guard_pairs"},
    "select": {"test_videos": "split.test_videos", "test_fraction": "split.test_fraction",
               "samples_per_shard": "dataset.samples_per_shard", "factor": "downsample.factor"},
    "average": {"seed": "seed", "factor": "downsample.factor"},
    "train": {"noise_sigma": "si.noise_sigma", "wild_sharp": "si.wild_sharp",
              "sharp_dirs": "si.image_dirs", "width": "model.width",
              "nafnet_width": "model.nafnet.width", "enc_blocks": "model.nafnet.enc_blocks",
              "middle_blocks": "model.nafnet.middle_blocks",
              "dec_blocks": "model.nafnet.dec_blocks"},
    "kernels": {"n": "si.kernels", "seed": "seed", "test_fraction": "si.test_fraction",
                "weight_floor": "si.weight_floor"},
    "si-test": {"seed": "seed", "noise_sigma": "si.noise_sigma", "max_images": "si.test_images"},
    "train-flow": {"factor": "downsample.factor"},
    "baseline": {"seed": "seed"},
    "evaluate": {"device": "evaluate.device", "max_images": "evaluate.max_images"},
    "report": {"real_max_side": "report.real_max_side", "n_extremes": "report.n_extremes",
               "device": "report.device", "real_blurry": "report.real_blurry_dir"},
    "evaluate-external": {"factor": "external.factor", "gopro_blur_dir": "external.gopro_blur_dir",
                          "max_images": "external.max_images", "device": "evaluate.device"},
}
# flags made from a settings dataclass: every field, against its schema key
DATACLASS_FLAGS = {"select": SelectionSettings, "average": Averaging, "train": TrainSettings,
                   "train-flow": (FlowTrainSettings, SyntheticSpec), "flow": FlowSettings}


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", sorted(set(FLAGS) | set(DATACLASS_FLAGS)))
def test_cli_defaults_are_the_schema_defaults(command):
    sp = subcommands()[command]
    defaults = {a.dest: a.default for a in sp._actions}
    expected = dict(FLAGS.get(command, {}))
    classes = DATACLASS_FLAGS.get(command, ())
    for cls in classes if isinstance(classes, tuple) else (classes,):
        section, _, extra = SETTINGS[cls]
        expected |= {f.name: extra.get(f.name, f"{section}.{f.name}")
                     for f in dataclasses.fields(cls)
                     if f.name in extra or f.name in section_keys(section)}
    for dest, path in expected.items():
        assert same(defaults[dest], schema_default(path)), (
            f"wilddeblur {command} --{dest.replace('_', '-')} = {defaults[dest]!r}, "
            f"schema {path} = {schema_default(path)!r}")


@pytest.mark.parametrize("arch", list(registry.ARCHS))
def test_registry_entries_agree_with_the_schema(arch):
    """Each network's entry: its name is a model.arch choice, its hyper-parameters' defaults
    are the schema's (and its class's), its recipe is its train section's defaults."""
    entry = registry.ARCHS[arch]
    assert arch in SCHEMA["properties"]["model"]["properties"]["arch"]["items"]["enum"]
    signature = inspect.signature(entry.network_class()).parameters
    for name, p in entry.params.items():
        assert same(p.default, schema_default(f"model.{p.key}")), (arch, name)
        assert same(signature[name].default, p.default), (arch, name)
    if entry.train_section:
        section = SCHEMA["properties"]["train"]["properties"][entry.train_section]["properties"]
        assert dict(entry.recipe) == {k: v["default"] for k, v in section.items()
                                      if "default" in v}
    assert set(SCHEMA["properties"]["model"]["properties"]["arch"]["items"]["enum"]) == set(
        registry.ARCHS)


def test_a_drifted_default_is_caught():
    """The comparison can fail: a default other than the schema's does not pass."""
    assert not same(120, schema_default("probe.image_fps"))
    assert not same(True, schema_default("train.tensorboard"))


def test_the_paper_preset_trains_table_1s_deblurnet_with_eq_1():
    """config/paper.yaml is read over config.yaml (Snakemake merges --configfile onto the
    Snakefile's configfile): what it leaves out comes from the demo, which trains a narrow
    DeblurNet and NAFNet. Merged, it trains DeblurNet at width 1 with Eq. (1) alone."""
    from snakemake.utils import update_config

    from wilddeblur.training.losses import LOSSES, loss_function
    from wilddeblur.training.settings import settings_for_arch

    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    update_config(config, yaml.safe_load((ROOT / "config/paper.yaml").read_text()))
    assert config["model"]["arch"] == ["deblurnet"]
    assert config["model"]["width"] == 1.0
    s = settings_for_arch(config["train"], "deblurnet")
    assert loss_function(s.loss, "deblurnet") is LOSSES["eq1"][0]
    assert (s.lr, s.lr_decay, s.lr_step, s.batch_size, s.schedule, s.optimizer) == (
        1e-3, 0.75, 10_000, 10, "step", "adam")
    assert (s.beta1, s.beta2, s.weight_decay) == (0.9, 0.999, 0.0)
