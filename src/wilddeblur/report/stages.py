"""The report stage as the workflow's script and the ``wilddeblur`` command call it: Table 2
(psnr.csv), report.md, the examples figure and the paper's figures, from the files the rule
declares."""

from __future__ import annotations

import os
import platform
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from wilddeblur.dataset.select import time_split_notes
from wilddeblur.errors import ConfigError
from wilddeblur.report.tables import examples_figure, markdown_table, write_report
from wilddeblur.video.stages import probe_notes


@dataclass(frozen=True)
class TrainedRun:
    """One trained network's files: its weights, its loss log, the examples evaluate saved."""

    model: Path
    history: Path
    examples: Path


@dataclass(frozen=True)
class ReportInputs:
    """What the report reads, each file named (the report rule's inputs).

    ``evaluations``: evaluate's per-image tables on the WILD test split (the blurry input, every
    network of ``runs``, the baselines); ``shards``: the dataset's shard files (the figures read
    images from them); ``si_evaluations``: the tables on the shift-invariant test set;
    ``external_evaluations``: those on other authors' test sets; ``verify``: the dataset
    check's result, quoted; ``probes``: the videos' probe JSONs, whose notes (a capture rate
    used, a frame rate below ``probe.warn_fps``) open the report.
    """

    evaluations: Sequence[Path]
    selection: Path
    runs: Mapping[str, TrainedRun]
    shards: Sequence[Path] = ()
    manifest: Path | None = None
    si_evaluations: Sequence[Path] = ()
    kernels_figure: Path | None = None
    external_evaluations: Sequence[Path] = ()
    verify: Path | None = None
    probes: Sequence[Path] = ()


@dataclass(frozen=True)
class FigureOptions:
    """The paper's figures (Fig. 2, Figs. 9-10, the real-photo panel): whether to draw the
    network's, and how."""

    figures: bool = True
    real_blurry: Path | None = None
    real_max_side: int = 640
    n_extremes: int = 2
    device: str = "auto"
    tile: int | None = None


def _concat(paths: Sequence[Path]) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


def _shards(inputs: ReportInputs, files: Sequence[str]) -> dict[str, Path]:
    """The declared shards by the name the tables give them; a table naming another is an
    error naming it."""
    from wilddeblur.report.figures import shards_by_name

    shards = shards_by_name(inputs.shards)
    missing = sorted(set(files) - set(shards))
    if missing:
        raise ConfigError(f"report: {missing[0]} is named by the evaluation or the manifest but "
                          f"is not among the report's shards ({len(shards)} given)")
    return shards


def build_report(inputs: ReportInputs, md: Path, figures_dir: Path | None = None,
                 context: dict | None = None, options: FigureOptions = FigureOptions()) -> Path:
    """Write report.md at ``md`` (psnr.csv and examples.png beside it, the figures in
    ``figures_dir``, default ``figures/`` beside it); return ``md``.

    The examples figure, Figs. 9-10 and the real-photo panel show the network with the best
    test PSNR.
    """
    from wilddeblur.report.networks import best_network

    out = Path(md).parent
    out.mkdir(parents=True, exist_ok=True)
    per_image = _concat(inputs.evaluations)
    manifest = pd.read_csv(inputs.manifest) if inputs.manifest else None
    files = list(per_image["file"]) + (list(manifest["file"]) if manifest is not None else [])
    shards = _shards(inputs, files)
    method = best_network(per_image, list(inputs.runs))
    examples_figure(per_image, shards, inputs.runs[method].examples, out / "examples.png",
                    method)
    context = dict(context or {})
    context.setdefault("machine", f"{platform.machine()}, {os.cpu_count()} CPUs")
    kernels = None
    if inputs.kernels_figure:
        kernels = Path(inputs.kernels_figure).name
        shutil.copyfile(inputs.kernels_figure, out / kernels)
    sel = pd.read_csv(inputs.selection)
    sections = []
    if manifest is not None:
        from wilddeblur.engine.device import pick_device
        from wilddeblur.models.registry import load_model
        from wilddeblur.report.assemble import figures_markdown, report_figures
        from wilddeblur.report.real_blurry import real_blurry_images

        dev = pick_device(options.device)
        net = load_model(inputs.runs[method].model, dev) if options.figures else None
        real = real_blurry_images(Path(options.real_blurry)) if options.real_blurry else None
        figs = report_figures(Path(figures_dir) if figures_dir else out / "figures", sel,
                              manifest, shards, net, per_image, method, dev,
                              options.tile or None, options.n_extremes, real,
                              options.real_max_side)
        sections.append(figures_markdown(figs, out))
    if inputs.external_evaluations:
        from wilddeblur.evaluation.external import summarise_external

        ext = summarise_external(_concat(inputs.external_evaluations))
        ext.to_csv(out / "external.csv", index=False)
        sections.append("## Other test sets\n\nMean of per-image values, conventions as "
                        "Table 2.\n\n" + markdown_table(ext) + "\n")
    if inputs.verify:
        sections.append("## Dataset check\n\n`wilddeblur verify`: "
                        + Path(inputs.verify).read_text().strip() + "\n")
    top = ([f"**Frame rate:** {note}" for note in probe_notes(inputs.probes)]
           + [f"**Split:** {note}" for note in time_split_notes(sel)])
    logs = {name: pd.read_csv(run.history) for name, run in inputs.runs.items()}
    si = _concat(inputs.si_evaluations) if inputs.si_evaluations else None
    write_report(per_image, sel, logs, out, "examples.png", context, si_per_image=si,
                 kernels_figure=kernels, manifest=manifest, top=top, sections=sections)
    return Path(md)
