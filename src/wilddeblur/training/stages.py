"""The training stages as the workflow's scripts and the ``wilddeblur`` command call them: a
network of the registry on the WILD train split (or, with a kernel bank, on synthetic blur:
DeblurNetSI, NAFNetSI), the kernel bank, and the shift-invariant test shard."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wilddeblur.dataset.shards import split_shards
from wilddeblur.fileio import atomic_path
from wilddeblur.models.registry import ModelSpec, arch_of, arch_params
from wilddeblur.training.settings import TrainSettings, settings_for_arch


@dataclass(frozen=True)
class SyntheticBlur:
    """DeblurNetSI's training data (§4; config section ``si``): the train split's sharp images
    (``wild_sharp``) and further folders, blurred with the bank's training kernels."""

    bank: Path
    noise_sigma: float = 0.01
    wild_sharp: bool = True
    image_dirs: Sequence[Path] = field(default_factory=tuple)


def train_network(manifest_csv: Path, out_dir: Path, settings: TrainSettings,
                  settings_hash: str = "", name: str = "DeblurNetWILD",
                  synthetic: SyntheticBlur | None = None, val_split: str = "test",
                  history: Path | None = None, model: ModelSpec | None = None) -> Path:
    """Train ``model`` (default: DeblurNet, Table 1) on the manifest's train split (resuming
    from ``out_dir/last.pt``); return the path of ``model.pt``. ``val_split``: the split
    scored every ``val_every`` steps ('' = none).

    ``history``: where to copy the loss log once training has finished (the workflow's
    ``history.csv``, which the report reads). ``out_dir/log.csv`` is the running log that a
    resumed run continues, kept like ``last.pt`` (Snakemake removes a failed job's declared
    outputs, and the log must survive an interruption)."""
    from wilddeblur.training.loop import train

    shards = split_shards(Path(manifest_csv), "train")
    dataset = None
    if synthetic is not None:  # DeblurNetSI (§4), NAFNetSI: shift-invariant synthetic blur
        from wilddeblur.training.synthetic_blur import SIBatches

        s = settings
        dataset = SIBatches(Path(synthetic.bank), s.batch_size, s.crop, s.seed, s.steps,
                            shards=shards if synthetic.wild_sharp else [],
                            image_dirs=[Path(d) for d in synthetic.image_dirs],
                            noise_sigma=synthetic.noise_sigma)
    val = split_shards(Path(manifest_csv), val_split) if val_split else []
    final = train(shards, Path(out_dir), settings, settings_hash, name=name, dataset=dataset,
                  val_shards=val, model_spec=model)
    if history is not None and int(os.environ.get("RANK", "0")) == 0:
        with atomic_path(Path(history)) as tmp:
            shutil.copyfile(Path(out_dir) / "log.csv", tmp)
    return final


def train_stage(manifest_csv: Path, out_dir: Path, name: str, train: Mapping, model: Mapping,
                seed: int = 0, settings_hash: str = "", si: Mapping | None = None,
                bank: Path | None = None, history: Path | None = None) -> Path:
    """The workflow's training stage: the run ``name`` (``{label}WILD`` or ``{label}SI`` of a
    registered network) from the config's ``train`` and ``model`` sections (and, for an SI
    run, the ``si`` section and the kernel ``bank``); see :func:`train_network`."""
    arch, data = arch_of(name)
    synthetic = None
    if data == "SI":
        synthetic = SyntheticBlur(Path(bank), si["noise_sigma"], si["wild_sharp"],
                                  [Path(d) for d in si["image_dirs"]])
    return train_network(Path(manifest_csv), Path(out_dir),
                         settings_for_arch(train, arch, seed=seed), settings_hash, name,
                         synthetic, history=history,
                         model=ModelSpec(arch, arch_params(model, arch)))


def kernel_bank(output: Path, n: int = 100_000, seed: int = 0, test_fraction: float = 0.1,
                weight_floor: float = 0.05, figure: Path | None = None) -> Path:
    """DeblurNetSI's kernel bank (Chakrabarti 2016), and a PNG of sample kernels."""
    from wilddeblur.dataset.kernels import bank_figure, write_kernel_bank

    write_kernel_bank(Path(output), n, seed, test_fraction, weight_floor)
    if figure:
        bank_figure(Path(output), Path(figure))
    return Path(output)


def si_test_shard(manifest_csv: Path, bank: Path, output: Path, split: str = "test",
                  seed: int = 0, noise_sigma: float = 0.01, max_images: int | None = None,
                  settings_hash: str = "") -> Path:
    """The sharp images of ``split`` blurred with the bank's held-out kernels: one shard."""
    from wilddeblur.training.synthetic_blur import ShardSharpImages, write_si_test_shard

    images = ShardSharpImages(split_shards(Path(manifest_csv), split), max_images)
    return write_si_test_shard(Path(output), images, Path(bank), seed, noise_sigma=noise_sigma,
                               sources=[images.source(j) for j in range(len(images))],
                               settings_hash=settings_hash)
