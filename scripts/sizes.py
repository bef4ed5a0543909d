# Checkpoint sizes: the frames' sizes against the size-dependent settings, before any decoding.
import os

from wilddeblur.snakejob import log_to
from wilddeblur.training.sizes import check_sizes

console = os.dup(2)  # the notes go to the console too, not only to the log
log_to(snakemake)
p = snakemake.params
# the settings from the config, not params: a change of them must not run this job again
for note in check_sizes(snakemake.input, p.splits, p.factor, snakemake.config,
                        snakemake.output[0]):
    print(note)
    os.write(console, f"{note}\n".encode())
