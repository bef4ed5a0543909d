# Rule verify: every shard of the manifest against its checksum.
from wilddeblur.dataset.stages import verify_manifest
from wilddeblur.snakejob import log_to

log_to(snakemake)
verify_manifest(snakemake.input.manifest, snakemake.output[0])
