# Rules evaluate_blurry, evaluate_model, evaluate_si_blurry, evaluate_si_model: per-image
# PSNR/SSIM of a model (or of the blurry input) on a manifest's test split.
from wilddeblur.evaluation.stages import evaluate_split
from wilddeblur.snakejob import log_to

log_to(snakemake)
inp, out, p = snakemake.input, snakemake.output, snakemake.params
evaluate_split(inp.manifest, out.table, p.method, checkpoint=inp.get("model"), device=p.device,
               examples=out.get("examples"), max_images=p.max_images)
