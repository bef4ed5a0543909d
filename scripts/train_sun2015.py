# Rule train_sun2015: Sun et al. 2015's patch CNN on synthetic linear motion blur.
import torch

from wilddeblur.evaluation.baselines.sun_cnn import run_train_sun2015
from wilddeblur.snakejob import log_to

log_to(snakemake)
torch.set_num_threads(snakemake.threads)
p = snakemake.params
run_train_sun2015(snakemake.input.manifest, snakemake.output.model, p.settings, p.seed, p.device)
