# Checkpoint select: windows of Ne frames that pass the checks; split; shard.
from pathlib import Path

from wilddeblur.dataset.select import SelectionSettings
from wilddeblur.dataset.stages import select
from wilddeblur.snakejob import log_to, settings

log_to(snakemake)
p = snakemake.params
select(snakemake.input.flow, Path(snakemake.input.probes[0]).parent, snakemake.output[0],
       settings(SelectionSettings, p.select, seed=p.seed,
                interpolate=p.interpolate), p.split["test_videos"],
       p.split["test_fraction"], p.fixed_splits, p.samples_per_shard, p.factor)
