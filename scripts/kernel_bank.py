# Rule kernel_bank: DeblurNetSI's motion-blur kernels (Chakrabarti 2016) and a figure of some.
from wilddeblur.snakejob import log_to
from wilddeblur.training.stages import kernel_bank

log_to(snakemake)
si = snakemake.params.si
kernel_bank(snakemake.output.bank, si["kernels"], snakemake.params.seed, si["test_fraction"],
            si["weight_floor"], snakemake.output.figure)
