# Rule downsample: decode, downsample by the factor, store frames; with classical flow, the
# per-pair flow table in the same pass (wilddeblur.video.stages).
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.snakejob import log_to, settings
from wilddeblur.video.stages import downsample

log_to(snakemake)
downsample(snakemake.input.probe, snakemake.output.frames, snakemake.params.factor,
           flow_output=snakemake.output.get("flow"),
           flow=settings(FlowSettings, snakemake.params.flow))
