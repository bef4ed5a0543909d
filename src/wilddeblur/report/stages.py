"""The report stage as the workflow's script and the ``wilddeblur`` command call it: Table 2
(psnr.csv), report.md, the examples figure and the paper's figures."""

from __future__ import annotations

import os
import platform
import shutil
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from wilddeblur.dataset.select import time_split_notes
from wilddeblur.fileio import write_text_atomic
from wilddeblur.report.tables import examples_figure, markdown_table, write_report
from wilddeblur.video.stages import probe_notes


def _concat(paths: Sequence[Path]) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


def build_report(evaluations: Sequence[Path], selection: Path, networks: Sequence[str],
                 train_root: Path, examples_root: Path, dataset_root: Path, output_dir: Path,
                 context: dict | None = None,
                 si_evaluations: Sequence[Path] = (), kernels_figure: Path | None = None,
                 manifest: Path | None = None, figures: bool = True,
                 figures_dir: Path | None = None, real_blurry: Path | None = None,
                 real_max_side: int = 640, n_extremes: int = 2, device: str = "auto",
                 tile: int | None = None, external_evaluations: Sequence[Path] = (),
                 verify: Path | None = None, probes: Sequence[Path] = ()) -> Path:
    """Write the report into ``output_dir``; return the path of report.md.

    ``evaluations``: evaluate's per-image tables (WILD test split), with one for each of the
    trained ``networks`` (their runs under ``train_root/<name>/``: history.csv, model.pt; their
    saved examples in ``examples_root/<name>-examples``); ``si_evaluations``: those on the
    shift-invariant test set. The examples figure, Figs. 9-10 and the real-photo panel show the
    network with the best test PSNR. With ``manifest``, the figures too (dataset statistics,
    Fig. 2; with ``figures`` also Figs. 9-10 and the real-photo panel). ``verify``: the
    result of the dataset check, quoted. ``external_evaluations``: tables on other authors'
    test sets. ``probes``: the videos' probe JSONs, whose notes (a capture rate used, a frame
    rate below ``probe.warn_fps``) open the report.
    """
    from wilddeblur.report.networks import best_network

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    per_image = _concat(evaluations)
    method = best_network(per_image, list(networks))
    examples_figure(per_image, Path(dataset_root), Path(examples_root) / f"{method}-examples",
                    out / "examples.png", method)
    context = dict(context or {})
    context.setdefault("machine", f"{platform.machine()}, {os.cpu_count()} CPUs")
    si = _concat(si_evaluations) if si_evaluations else None
    kernels = None
    if kernels_figure:
        kernels = Path(kernels_figure).name
        shutil.copyfile(kernels_figure, out / kernels)
    sel = pd.read_csv(selection)
    logs = {n: pd.read_csv(Path(train_root) / n / "history.csv") for n in networks}
    write_report(per_image, sel, logs, out, "examples.png", context,
                 si_per_image=si, kernels_figure=kernels,
                 manifest=pd.read_csv(manifest) if manifest else None)
    extra = []
    if manifest:
        from wilddeblur.device import pick_device
        from wilddeblur.models.registry import load_model
        from wilddeblur.report.assemble import figures_markdown, report_figures
        from wilddeblur.report.real_blurry import real_blurry_images

        dev = pick_device(device)
        net = load_model(Path(train_root) / method / "model.pt", dev) if figures else None
        figs = report_figures(
            Path(figures_dir) if figures_dir else out / "figures", sel, pd.read_csv(manifest),
            Path(dataset_root), net, per_image, method, dev, tile or None, n_extremes,
            real_blurry_images(Path(real_blurry)) if real_blurry else None, real_max_side)
        extra.append(figures_markdown(figs, out))
    if external_evaluations:
        from wilddeblur.evaluation.external import summarise_external

        ext = summarise_external(_concat(external_evaluations))
        ext.to_csv(out / "external.csv", index=False)
        extra.append("## Other test sets\n\nMean of per-image values, conventions as Table 2."
                     "\n\n" + markdown_table(ext) + "\n")
    if verify:
        extra.append("## Dataset check\n\n`wilddeblur verify`: "
                     + Path(verify).read_text().strip() + "\n")
    md = out / "report.md"
    notes = time_split_notes(sel)
    rates = probe_notes(probes)
    if notes or rates or extra:
        title, rest = md.read_text().split("\n", 1)
        top = "".join(f"\n**Frame rate:** {note}\n" for note in rates)
        top += "".join(f"\n**Split:** {note}\n" for note in notes)
        write_text_atomic(md, f"{title}\n{top}{rest}" + "\n" + "\n".join(extra))
    return md
