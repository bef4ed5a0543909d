# Rule average: one shard, blurry = mean of Ne frames, sharp = the centre, its videos decoded
# again for just the frames it needs (wilddeblur.dataset).
from pathlib import Path

from wilddeblur.dataset.average import Averaging
from wilddeblur.dataset.stages import average
from wilddeblur.flow.settings import FlowSettings
from wilddeblur.snakejob import log_to, settings

log_to(snakemake)
p, wc = snakemake.params, snakemake.wildcards
average(snakemake.input.selection, wc.split, int(wc.shard),
        Path(snakemake.input.probes[0]).parent, snakemake.output[0], p.settings_hash,
        settings(Averaging, p.average), p.seed, p.factor, Path(snakemake.input.flows[0]).parent,
        p.interpolate, settings(FlowSettings, p.flow))
