# §2 step 1: decode and downsample every frame by 3 (area filter) into a lossless frame store.


rule downsample:
    input:
        video=lambda wc: VIDEOS[wc.video],
        probe="results/probe/{video}.json",
    output:
        "results/frames/{video}.h5",
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
        code_version=CODE_VERSION,
    shell:
        "wilddeblur downsample {input.probe} -o {output} --factor {params.factor} > {log} 2>&1"
