# Rule evaluate_external: per-image PSNR/SSIM on another authors' test set on disk.
from wilddeblur.evaluation.stages import evaluate_external_set
from wilddeblur.snakejob import log_to

log_to(snakemake)
p, wc = snakemake.params, snakemake.wildcards
checkpoint = snakemake.input.model or None  # none for the blurry input
evaluate_external_set(snakemake.output.table, wc.set, wc.method, checkpoint=checkpoint,
                      factor=p.factor, device=p.device, max_images=p.max_images, **p.source)
