# §2 step 3-4: flow between consecutive frames -> per-pair statistics and matching error.


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
        "../../envs/dataset.yaml"
    threads: 1
    resources:
        mem_mb=config["resources"]["video_mem_mb"],
        runtime=config["resources"]["video_runtime"],
    params:
        flags=cli_flags("flow"),
        code_version=CODE_VERSION,
    shell:
        "wilddeblur flow {input.frames} -o {output} {params.flags} > {log} 2>&1"
