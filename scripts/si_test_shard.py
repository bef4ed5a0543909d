# Rule si_test_shard: the test split's sharp images blurred with held-out kernels.
from wilddeblur.snakejob import log_to
from wilddeblur.training.stages import si_test_shard

log_to(snakemake)
p = snakemake.params
si_test_shard(snakemake.input.manifest, snakemake.input.bank, snakemake.output[0], "test",
              p.seed, p.si["noise_sigma"], p.si["test_images"], p.settings_hash)
