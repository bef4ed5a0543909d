# §2 step 2: blurry = mean of the Ne frames, sharp = central frame -> HDF5 shards + manifest.


rule average:
    input:
        selection="results/select/selection.csv",
        frames=shard_videos,
        crf=[config["average"]["crf_file"]] if config["average"]["crf_file"] else [],
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
        averaging=cli_flags("average"),
        seed=config["seed"],
    shell:
        "wilddeblur average {input.selection} --split {wildcards.split}"
        " --shard {wildcards.shard} --frames-dir results/frames"
        " --settings-hash {params.settings_hash} {params.averaging} --seed {params.seed}"
        " -o {output} > {log} 2>&1"


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
    shell:
        "wilddeblur manifest {input} -o {output} > {log} 2>&1"


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
    shell:
        "wilddeblur verify {input.manifest} -o {output} > {log} 2>&1"
