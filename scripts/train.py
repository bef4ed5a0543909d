# Rules train, train_si: DeblurNet on the train split (DeblurNetSI: on synthetic blur with the
# kernel bank), resuming from last.pt; several GPUs: this script again under torchrun.
from pathlib import Path

from wilddeblur.snakejob import log_to, relaunch_under_torchrun, settings
from wilddeblur.training.settings import TrainSettings
from wilddeblur.training.stages import SyntheticBlur, train_deblurnet

log_to(snakemake)
p = snakemake.params
if not relaunch_under_torchrun(snakemake, p.gpus):
    si = p.get("si")
    synthetic = (SyntheticBlur(snakemake.input.bank, si["noise_sigma"], si["wild_sharp"],
                               si["image_dirs"]) if si else None)
    train_deblurnet(snakemake.input.manifest, Path(snakemake.output.model).parent,
                    settings(TrainSettings, p.train, width=p.width, seed=p.seed),
                    p.settings_hash, p.name, synthetic, history=snakemake.output.history)
