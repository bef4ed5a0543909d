# Checkpoint sizes: the frames' sizes against the size-dependent settings, before any decoding.
import os

from wilddeblur.dataset.sizes import check_sizes
from wilddeblur.snakejob import log_to

console = os.dup(2)  # the notes go to the console too, not only to the log
log_to(snakemake)
p = snakemake.params
for note in check_sizes(snakemake.input, p.splits, p.factor, p.settings, snakemake.output[0]):
    print(note)
    os.write(console, f"{note}\n".encode())
