# §2 step 1: decode and downsample every frame by 3 (area filter) into a lossless frame store.
# With a classical flow backend, §2 steps 3-4 (flow statistics) happen in the same pass.


rule downsample:
    input:
        video=lambda wc: VIDEOS[wc.video],
        probe="results/probe/{video}.json",
    output:
        **({"flow": "results/flow/{video}.csv"} if STREAM_FLOW else {}),
        frames="results/frames/{video}.h5",
    log:
        "logs/downsample/{video}.log",
    benchmark:
        "results/benchmarks/downsample/{video}.tsv"
    conda:
        "../../envs/dataset.yaml"
    threads: 2
    resources:
        mem_mb=config["resources"]["video_mem_mb"],
        runtime=config["resources"]["video_runtime"],
    params:
        factor=config["downsample"]["factor"],
        flow=config["flow"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/downsample.py"
