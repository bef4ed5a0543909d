# Rules manifest, si_manifest: one row per sample of the shards, with checksums.
from wilddeblur.dataset.stages import write_manifest
from wilddeblur.snakejob import log_to

log_to(snakemake)
write_manifest(snakemake.input, snakemake.output[0])
