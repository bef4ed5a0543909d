# Rules train, train_si: a network of the registry on the train split (its SI twin: on synthetic
# blur with the kernel bank), resuming from last.pt; several GPUs: this script under torchrun.
from pathlib import Path

from wilddeblur.models.names import arch_of, arch_params
from wilddeblur.models.registry import ModelSpec
from wilddeblur.snakejob import log_to, relaunch_under_torchrun
from wilddeblur.training.settings import settings_for_arch
from wilddeblur.training.stages import SyntheticBlur, train_network

log_to(snakemake)
p = snakemake.params
if not relaunch_under_torchrun(snakemake, p.gpus):
    arch, data = arch_of(p.name)
    si = p.si if data == "SI" else None
    synthetic = (SyntheticBlur(snakemake.input.bank, si["noise_sigma"], si["wild_sharp"],
                               si["image_dirs"]) if si else None)
    train_network(snakemake.input.manifest, Path(snakemake.output.model).parent,
                  settings_for_arch(p.train, arch, seed=p.seed), p.settings_hash, p.name,
                  synthetic, history=snakemake.output.history,
                  model=ModelSpec(arch, arch_params(p.model, arch)))
