# Rule flow (learned backends): per-pair flow statistics of a frame store (wilddeblur.flow).
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.flow.stages import flow_stage
from wilddeblur.snakejob import log_to, settings

log_to(snakemake)
flow_stage(snakemake.input.frames, snakemake.output[0],
           settings(FlowSettings, snakemake.params.flow))
