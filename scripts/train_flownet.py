# Rule train_flownet: FlowNetS on synthetic pairs with exact flow; EPE against DIS/Farneback.
from pathlib import Path

from wilddeblur.flow.train_flow import train_flownet
from wilddeblur.flow.train_settings import FlowTrainSettings
from wilddeblur.snakejob import log_to

log_to(snakemake)
p = snakemake.params
train_flownet(Path(snakemake.output.weights).parent,
              FlowTrainSettings.from_flat(p.train_flow | {"seed": p.seed}),
              [Path(c) for c in snakemake.input.clips], factor=p.factor)
