# §2 steps 1, 3-4: decode each video, downsample every frame by 3 (area filter) and take the flow
# of every consecutive pair in the same pass -> per-pair statistics and matching error. No frame
# is kept: the shards decode again just the frames they need (average.smk). With flow.skip, the
# pairs that cannot change the selection are skipped: the rule comes from select and interpolate
# (FLOW_SKIP), so that changing them runs the flow again.
rule flow:
    input:
        video=lambda wc: VIDEOS[wc.video],
        probe=checked_probe,  # after the check of the frame sizes (checkpoint sizes)
        weights=FLOW_WEIGHTS,
    output:
        "results/flow/{video}.csv",
    log:
        "logs/flow/{video}.log",
    benchmark:
        "results/benchmarks/flow/{video}.tsv"
    conda:
        "../../envs/dataset.yaml" if CLASSICAL_FLOW else "../../envs/torch.yaml"
    threads: 2
    resources:
        mem_mb=config["resources"]["video_mem_mb"],
        runtime=config["resources"]["video_runtime"],
        gpu=0 if CLASSICAL_FLOW else config["resources"]["train_gpu"],
    params:
        factor=config["downsample"]["factor"],
        flow=config["flow"],
        skip=FLOW_SKIP,
        code_version=CODE_VERSION,
    script:
        "../../scripts/flow.py"
