# Rule flow: decode + downsample a video and take the per-pair flow statistics in one pass
# (wilddeblur.flow.stages).
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.flow.stages import flow_stage
from wilddeblur.snakejob import log_to, settings

log_to(snakemake)
flow_stage(snakemake.input.probe, snakemake.output[0], snakemake.params.factor,
           settings(FlowSettings, snakemake.params.flow), snakemake.threads)
