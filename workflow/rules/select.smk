# §2 steps 2-4: windows of Ne random odd frames that pass the flow and matching checks.
# A checkpoint: how many samples, and so how many shards, depends on the data.


checkpoint select:
    input:
        flow=expand("results/flow/{video}.csv", video=VIDEOS),
        probes=expand("results/probe/{video}.json", video=VIDEOS),
    output:
        "results/select/selection.csv",
    log:
        "logs/select/select.log",
    conda:
        "../../envs/dataset.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        select=config["select"],
        split=config["split"],
        fixed_splits=FIXED_SPLITS,
        samples_per_shard=config["dataset"]["samples_per_shard"],
        factor=config["downsample"]["factor"],
        seed=config["seed"],
        interpolate=config["interpolate"]["factor"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/select.py"
