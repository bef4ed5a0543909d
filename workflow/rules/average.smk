# §2 step 2: blurry = mean of the Ne frames (with interpolate.factor k > 1, of the k (Ne - 1) + 1
# original and interpolated frames), sharp = central frame -> HDF5 shards + manifest.
# Each shard decodes its videos again, only up to the last frame it needs.


rule average:
    input:
        selection="results/select/selection.csv",
        videos=shard_videos,
        probes=shard_probes,
        flows=shard_flows,
        crf=[config["average"]["crf_file"]] if config["average"]["crf_file"] else [],
        weights=FLOW_WEIGHTS if config["interpolate"]["factor"] > 1 else [],
    output:
        "results/dataset/{split}/shard-{shard}.h5",
    log:
        "logs/average/{split}-{shard}.log",
    benchmark:
        "results/benchmarks/average/{split}-{shard}.tsv"
    conda:
        "../../envs/dataset.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        settings_hash=DATASET_HASH,
        average=config["average"],
        seed=config["seed"],
        factor=config["downsample"]["factor"],
        interpolate=config["interpolate"]["factor"],
        flow=config["flow"],
    script:
        "../../scripts/average.py"


rule manifest:
    input:
        all_shards,
    output:
        "results/dataset/manifest.csv",
    log:
        "logs/average/manifest.log",
    conda:
        "../../envs/dataset.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    script:
        "../../scripts/manifest.py"


rule verify:
    input:
        manifest="results/dataset/manifest.csv",
        shards=all_shards,
    output:
        "results/dataset/verify.txt",
    log:
        "logs/average/verify.log",
    conda:
        "../../envs/dataset.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    script:
        "../../scripts/verify.py"
