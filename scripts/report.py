# Rule report: Table 2 (psnr.csv), report.md, the examples figure and the paper's figures.
from pathlib import Path

from wilddeblur.report.stages import FigureOptions, ReportInputs, TrainedRun, build_report
from wilddeblur.snakejob import log_to

log_to(snakemake)
inp, out, p, r = snakemake.input, snakemake.output, snakemake.params, snakemake.params.report
runs = zip(p.networks, inp.trained, inp.train_logs, inp.examples, strict=True)
inputs = ReportInputs(
    [inp.blurry, *inp.networks, inp.l0, *inp.baselines], inp.selection,
    {name: TrainedRun(*map(Path, files)) for name, *files in runs}, shards=inp.shards,
    manifest=inp.manifest, si_evaluations=inp.si_test, kernels_figure=inp.kernels,
    external_evaluations=inp.external, verify=inp.verify, probes=inp.probes)
figures = FigureOptions(real_blurry=r["real_blurry_dir"], real_max_side=r["real_max_side"],
                        n_extremes=r["n_extremes"], device=r["device"])
build_report(inputs, out.md, Path(out.dataset).parent, p.context, figures)
