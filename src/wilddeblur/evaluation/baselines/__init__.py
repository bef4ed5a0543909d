"""Classical baselines of Table 2, scored with :func:`wilddeblur.evaluation.evaluate.evaluate`.

* ``l0``: blind deblurring with a uniform kernel and the L0 gradient prior
  (:mod:`wilddeblur.evaluation.baselines.l0`), standing in for the paper's "Xu et al. 2013" row
  ([44], which the paper ran space-varying; here Pan et al. 2014's uniform form). Default
  method name ``"uniform L0 (after Xu et al. 2013)"``, a key of
  :data:`wilddeblur.report.tables.PAPER_TABLE2` (the paper's 22.50 dB beside it).
* ``xu_jia``: two-phase kernel estimation (:mod:`wilddeblur.evaluation.baselines.xu_jia`), the
  row "Xu & Jia 2010".
* ``sun2015``: the patch CNN + MRF of Sun et al. 2015
  (:mod:`wilddeblur.evaluation.baselines.sun_motion`), the row "Sun et al. 2015"; needs the
  trained ``checkpoint``.
* ``oracle``: non-blind deconvolution of the shift-invariant (SI) test set with each image's
  *true* kernel (read through the shard's ``kernel_index`` from the kernel bank;
  :mod:`wilddeblur.evaluation.baselines.nonblind`): an upper reference for any method that must
  estimate
  the blur. Default name ``"oracle-wiener"`` (``"oracle-hyper-laplacian"`` with
  ``deconvolution="hyper-laplacian"``). Not defined on WILD shards (no true kernel).

:func:`run_baseline` is what a ``wilddeblur baseline`` subcommand would call.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from wilddeblur.dataset.shards import shard_size, split_shards
from wilddeblur.fileio import write_csv_atomic

BASELINES = ("l0", "xu_jia", "sun2015", "oracle")
DEFAULT_NAMES = {"l0": "uniform L0 (after Xu et al. 2013)", "xu_jia": "Xu & Jia 2010",
                 "sun2015": "Sun et al. 2015", "oracle": "oracle-{deconvolution}"}


def protocol_images(shards: list[Path], n: int, seed: int) -> list[tuple[Path, int]]:
    """The ``n`` images of the paper's protocol ("15 random images of the test set"), drawn as
    :func:`wilddeblur.report.tables.summarise` draws its ``test-15`` rows: ``(file, index)`` pairs
    sorted, then ``DataFrame.sample(n, random_state=seed)``. The same images therefore, as long
    as the other evaluations in the report cover the whole split (no ``max_images``)."""
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"protocol_images must be a positive integer, got {n!r}")
    rows = [(f"{Path(p).parent.name}/{Path(p).name}", i, Path(p))
            for p in shards for i in range(shard_size(p))]
    images = pd.DataFrame(rows, columns=["file", "index", "path"])
    images = images.drop_duplicates(["file", "index"]).sort_values(["file", "index"])
    drawn = images[["file", "index"]].sample(n=min(n, len(images)), random_state=seed)
    chosen = images.loc[drawn.index].sort_values(["file", "index"])
    return [(row.path, int(row.index)) for row in chosen.itertuples(index=False)]


def make_restorer(method: str, bank: Path | None = None, checkpoint: Path | None = None,
                  **params):
    """The ``restore(blurry, shard, index)`` callable of a baseline, and its display name.

    ``l0``: ``params`` are :class:`wilddeblur.evaluation.baselines.l0.L0Params` fields;
    ``xu_jia``: :class:`~wilddeblur.evaluation.baselines.xu_jia.XuJiaParams` fields;
    ``sun2015``: :class:`~wilddeblur.evaluation.baselines.sun_motion.SunParams` fields, and
    ``checkpoint`` (the trained patch CNN). ``oracle``:
    ``deconvolution`` (``wiener``, default, or ``hyper-laplacian``) and that function's
    parameters; needs ``bank``. Returns ``(restore, name)``; an oracle restorer holds the bank
    open until its ``close()``.
    """
    if method == "l0":
        from wilddeblur.evaluation.baselines.l0 import L0Restorer

        return L0Restorer(**params), DEFAULT_NAMES["l0"]
    if method == "xu_jia":
        from wilddeblur.evaluation.baselines.xu_jia import XuJiaRestorer

        return XuJiaRestorer(**params), DEFAULT_NAMES["xu_jia"]
    if method == "sun2015":
        from wilddeblur.evaluation.baselines.sun_motion import SunRestorer

        if checkpoint is None:
            raise ValueError("checkpoint: the sun2015 baseline needs its trained patch CNN")
        return SunRestorer(Path(checkpoint), **params), DEFAULT_NAMES["sun2015"]
    if method == "oracle":
        import inspect

        from wilddeblur.evaluation.baselines.nonblind import (
            NONBLIND_METHODS,
            KernelOracle,
            deconvolve,
        )

        if bank is None:
            raise ValueError("bank: the oracle baseline needs the kernel bank of the SI test set")
        deconvolution = params.pop("deconvolution", "wiener")
        if deconvolution not in NONBLIND_METHODS:
            raise ValueError(f"deconvolution must be one of {sorted(NONBLIND_METHODS)}, "
                             f"got {deconvolution!r}")
        known = set(inspect.signature(NONBLIND_METHODS[deconvolution]).parameters) - {
            "image", "kernel"}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"unknown {deconvolution} parameter(s) {unknown}; known: "
                             f"{sorted(known)}")
        deconvolve(np.zeros((8, 8)), np.ones((1, 1)), deconvolution, **params)  # check values
        name = DEFAULT_NAMES["oracle"].format(deconvolution=deconvolution)
        return KernelOracle(Path(bank), deconvolution, **params), name
    raise ValueError(f"method must be one of {list(BASELINES)}, got {method!r}")


def run_baseline(manifest: Path, method: str, output: Path, bank: Path | None = None,
                 checkpoint: Path | None = None,
                 split: str = "test", name: str | None = None, max_images: int | None = None,
                 protocol: int | None = None, seed: int = 0, examples_dir: Path | None = None,
                 kernels_out: Path | None = None, params: dict | None = None) -> pd.DataFrame:
    """Score a baseline on a split of a manifest; write the per-image CSV of ``evaluate``.

    ``method``: one of :data:`BASELINES` (see the module docstring); ``bank``: the kernel bank
    (oracle only); ``checkpoint``: the patch CNN (sun2015 only); ``name``: the ``method``
    column (default: :data:`DEFAULT_NAMES`); ``max_images``: only the first N; ``protocol``:
    only the paper's protocol images (:func:`protocol_images` with ``seed``, the report's
    seed), e.g. 15; ``examples_dir``: the first outputs as PNG; ``kernels_out``: (l0, xu_jia)
    an ``.npz`` with the
    estimated ``kernels`` (N, K, K) and their ``files`` / ``index``; ``params``: the baseline's
    parameters (:func:`make_restorer`). The CSV is written atomically; returns the table.
    """
    from wilddeblur.evaluation.evaluate import evaluate

    if params is not None and not isinstance(params, dict):
        raise ValueError(f"params must be a mapping of parameter names to values, got {params!r}")
    shards = split_shards(Path(manifest), split, required=True)
    images = protocol_images(shards, protocol, seed) if protocol is not None else None
    restore, default_name = make_restorer(method, bank, checkpoint, **dict(params or {}))
    name = name or default_name
    start = time.perf_counter()
    try:
        table = evaluate(shards, name, examples_dir=examples_dir, max_images=max_images,
                         restore=restore, images=images)
    finally:
        if hasattr(restore, "close"):
            restore.close()
    seconds = time.perf_counter() - start
    output = Path(output)
    write_csv_atomic(table, output)
    if kernels_out is not None and getattr(restore, "kernels", None):
        keys = list(restore.kernels)
        kernels_out = Path(kernels_out)
        kernels_out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(kernels_out, kernels=np.stack([restore.kernels[k] for k in keys]),
                            files=np.array([f"{Path(f).parent.name}/{Path(f).name}"
                                            for f, _ in keys]),
                            index=np.array([i for _, i in keys]))
    print(f"{name}: {len(table)} images in {seconds:.1f} s "
          f"({seconds / max(len(table), 1):.2f} s/image), PSNR {table['psnr'].mean():.3f} dB, "
          f"SSIM {table['ssim'].mean():.4f}")
    return table
