# Rule report: Table 2 (psnr.csv), report.md, the examples figure and the paper's figures.
from pathlib import Path

from wilddeblur.report.stages import build_report
from wilddeblur.snakejob import log_to

log_to(snakemake)
inp, out, p = snakemake.input, snakemake.output, snakemake.params
build_report(
    [inp.blurry, *inp.networks, inp.l0, *inp.baselines], inp.selection, p.networks,
    Path(inp.trained[0]).parent.parent, Path(inp.examples[0]).parent,
    Path(inp.manifest).parent, Path(out.md).parent, context=p.context,
    si_evaluations=inp.si_test, kernels_figure=inp.kernels, manifest=inp.manifest,
    figures_dir=Path(out.dataset).parent,
    real_blurry=p.report["real_blurry_dir"], real_max_side=p.report["real_max_side"],
    n_extremes=p.report["n_extremes"], device=p.report["device"],
    external_evaluations=inp.external, verify=inp.verify, probes=inp.probes)
