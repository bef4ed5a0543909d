# The dataset as PNG folders for other frameworks: `snakemake export` writes both layouts,
# results/export/gopro (GoPro_Large's) and results/export/paired (BasicSR's paired folders).


rule export:
    input:
        expand("results/export/{layout}", layout=["gopro", "paired"]),


rule export_layout:
    input:
        manifest="results/dataset/manifest.csv",
        shards=all_shards,
    output:
        directory("results/export/{layout}"),
    log:
        "logs/export/{layout}.log",
    benchmark:
        "results/benchmarks/export/{layout}.tsv"
    wildcard_constraints:
        layout="gopro|paired",
    conda:
        "../../envs/dataset.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        code_version=CODE_VERSION,
    script:
        "../../scripts/export.py"
