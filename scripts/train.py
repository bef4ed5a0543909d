# Rules train, train_si: a network of the registry on the train split (its SI twin: on synthetic
# blur with the kernel bank), resuming from last.pt; several GPUs: this script under torchrun.
from pathlib import Path

from wilddeblur.snakejob import log_to, relaunch_under_torchrun
from wilddeblur.training.stages import train_stage

log_to(snakemake)
p = snakemake.params
if not relaunch_under_torchrun(snakemake, p.gpus):
    train_stage(snakemake.input.manifest, Path(snakemake.output.model).parent, p.name,
                p.train, p.model, p.seed, p.settings_hash, p.get("si"),
                snakemake.input.get("bank"), snakemake.output.history)
