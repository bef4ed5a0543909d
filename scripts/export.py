# Rule export_layout: the dataset's pairs as PNG folders (GoPro or paired layout).
from wilddeblur.dataset.stages import export
from wilddeblur.snakejob import log_to

log_to(snakemake)
export(snakemake.input.manifest, snakemake.output[0], snakemake.wildcards.layout, force=True)
