# §2 steps 2-4: windows of Ne random odd frames that pass the flow and matching checks.
# A checkpoint: how many samples, and so how many shards, depends on the data.


checkpoint select:
    input:
        flow=expand("results/flow/{video}.csv", video=VIDEOS),
        frames=expand("results/frames/{video}.h5", video=VIDEOS),
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
        select=cli_flags("select"),
        test=" ".join(shlex.quote(p) for p in config["split"]["test_videos"]),
        fixed=" ".join(f"{v}={s}" for v, s in FIXED_SPLITS.items()),
        test_fraction=config["split"]["test_fraction"],
        per_shard=config["dataset"]["samples_per_shard"],
        seed=config["seed"],
        code_version=CODE_VERSION,
    shell:
        "wilddeblur select {input.flow} --frames-dir results/frames -o {output}"
        " {params.select} --seed {params.seed} --test-videos {params.test}"
        " --fixed-split {params.fixed} --test-fraction {params.test_fraction}"
        " --samples-per-shard {params.per_shard} > {log} 2>&1"
