# Rule flow: decode + downsample a video and take the per-pair flow statistics in one pass
# (wilddeblur.flow.stages).
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.flow.skip import SkipRule
from wilddeblur.flow.stages import flow_stage
from wilddeblur.snakejob import log_to, settings

log_to(snakemake)
p = snakemake.params
flow_stage(snakemake.input.probe, snakemake.output[0], p.factor, settings(FlowSettings, p.flow),
           snakemake.threads, SkipRule(**p.skip) if p.skip else None)
