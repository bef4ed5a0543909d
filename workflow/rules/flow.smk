# §2 step 3-4: flow between consecutive frames -> per-pair statistics and matching error.
# Learned backends only: classical ones stream with the decoding (downsample.smk).


if not STREAM_FLOW:

    rule flow:
        input:
            frames="results/frames/{video}.h5",
            weights=FLOW_WEIGHTS,
        output:
            "results/flow/{video}.csv",
        log:
            "logs/flow/{video}.log",
        benchmark:
            "results/benchmarks/flow/{video}.tsv"
        conda:
            "../../envs/torch.yaml"
        threads: 2
        resources:
            mem_mb=config["resources"]["video_mem_mb"],
            runtime=config["resources"]["video_runtime"],
            gpu=config["resources"]["train_gpu"],
        params:
            flow=config["flow"],
            code_version=CODE_VERSION,
        script:
            "../../scripts/flow.py"
