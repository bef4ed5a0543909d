# Rules baseline_l0_wild, baseline_l0_si, baseline_wild, baseline_si, baseline_oracle_si:
# Table 2's classical baselines.
from wilddeblur.evaluation.baselines import run_baseline
from wilddeblur.snakejob import log_to

log_to(snakemake)
inp, out, p = snakemake.input, snakemake.output, snakemake.params
run_baseline(inp.manifest, p.method, out.table, bank=inp.get("bank"),
             checkpoint=next(iter(inp.get("checkpoint") or []), None), max_images=p.max_images,
             protocol=p.protocol, seed=p.seed, examples_dir=out.get("examples"),
             kernels_out=out.get("kernels"), params=p.method_params)
