# wilddeblur: video -> dataset -> DeblurNet -> PSNR report ("Motion Deblurring in the Wild").
# Thin on purpose: configuration, its validation, and the rule files, one per stage.
from snakemake.utils import min_version, validate

from wilddeblur.config import check_config
from wilddeblur.errors import one_line

min_version("9.0")


configfile: "config.yaml"


with one_line():  # a config error: one line naming the key, no traceback
    check_config(config, f"{workflow.basedir}/workflow/schemas/config.schema.yaml")
validate(config, "workflow/schemas/config.schema.yaml")  # fills in the defaults


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/probe.smk"
include: "workflow/rules/flow.smk"
include: "workflow/rules/select.smk"
include: "workflow/rules/average.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/si.smk"
include: "workflow/rules/baselines.smk"
include: "workflow/rules/flownet.smk"
include: "workflow/rules/external.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/onnx.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        "results/report/psnr.csv",
        "results/report/report.md",
        "results/report/examples.png",
