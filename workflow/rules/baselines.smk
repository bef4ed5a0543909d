# Table 2's classical baselines (wilddeblur.evaluation.baselines), computed here: uniform L0
# blind deblurring (after Xu et al. 2013, the paper's [44], in Pan et al. 2014's form), Xu & Jia
# 2010 and Sun et al. 2015 (its patch CNN trained by train_sun2015) on the WILD test split and
# on the SI test set, and the non-blind oracle (each image's true kernel) on the SI test set.
# Included after si.smk (it uses si.smk's outputs and common.smk's helpers). Conda env: torch.yaml, not
# dataset.yaml, because wilddeblur.evaluation.evaluate imports torch at module level.


wildcard_constraints:
    deconvolution="wiener|hyper-laplacian",
    baseline="XuJia2010|Sun2015",


rule baseline_oracle_si:
    input:
        manifest="results/si/manifest.csv",
        shards=SI_TEST_SHARD,
        bank="results/si/kernels.h5",
    output:
        table="results/si/evaluate/oracle-{deconvolution}.csv",
    log:
        "logs/si/evaluate-oracle-{deconvolution}.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        # the Wiener filter's noise level is the SI test set's own (at least 8-bit rounding's)
        method="oracle",
        method_params=lambda wc: {"deconvolution": wc.deconvolution}
        | (
            {"noise_sigma": max(config["si"]["noise_sigma"], 1 / 255 / 12**0.5)}
            if wc.deconvolution == "wiener"
            else {}
        ),
        max_images=None,
        protocol=None,
        seed=0,
        code_version=CODE_VERSION,
    script:
        "../../scripts/baseline.py"


rule train_sun2015:
    input:
        manifest="results/dataset/manifest.csv",
        shards=split_shards("train"),
    output:
        model=SUN_CHECKPOINT,
    log:
        "logs/baselines/train_sun2015.log",
    benchmark:
        "results/benchmarks/baselines/train_sun2015.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=config["baselines"]["sun2015_runtime"],
        gpu=config["resources"]["train_gpu"],
    params:
        settings=config["baselines"]["sun2015_train"],
        device=config["evaluate"]["device"],
        seed=config["seed"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/train_sun2015.py"


rule baseline_wild:
    input:
        manifest="results/dataset/manifest.csv",
        shards=split_shards("test"),
        checkpoint=baseline_checkpoint,
    output:
        table="results/evaluate/{baseline}.csv",
        examples=directory("results/evaluate/{baseline}-examples"),
    log:
        "logs/evaluate/{baseline}.log",
    benchmark:
        "results/benchmarks/evaluate/{baseline}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=config["baselines"]["l0_runtime"],
    params:
        method=lambda wc: BASELINE_METHODS[wc.baseline],
        method_params=sized_baseline("wild"),
        # the other WILD evaluations' images: their first N if evaluate.max_images is set,
        # else the report's protocol images (the same draw, with the same seed)
        max_images=config["evaluate"]["max_images"],
        protocol=lambda wc: (
            None
            if config["evaluate"]["max_images"]
            else baseline_key("wild_images")(wc)
        ),
        seed=config["seed"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/baseline.py"


rule baseline_si:
    input:
        manifest="results/si/manifest.csv",
        shards=SI_TEST_SHARD,
        checkpoint=baseline_checkpoint,
    output:
        table="results/si/evaluate/{baseline}.csv",
    log:
        "logs/si/evaluate-{baseline}.log",
    benchmark:
        "results/benchmarks/si/evaluate-{baseline}.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=config["baselines"]["l0_runtime"],
    params:
        method=lambda wc: BASELINE_METHODS[wc.baseline],
        method_params=sized_baseline("si"),
        max_images=baseline_key("si_images"),
        protocol=None,
        seed=config["seed"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/baseline.py"


# L0 (Xu2013-L0) is the rules above with its own names, config keys and kernels' file (a rule
# given anew replaces input and output, and updates params).
use rule baseline_wild as baseline_l0_wild with:
    input:
        manifest="results/dataset/manifest.csv",
        shards=split_shards("test"),
    output:
        table="results/evaluate/Xu2013-L0.csv",
        kernels="results/evaluate/Xu2013-L0-kernels.npz",
        examples=directory("results/evaluate/Xu2013-L0-examples"),
    log:
        "logs/evaluate/Xu2013-L0.log",
    benchmark:
        "results/benchmarks/evaluate/Xu2013-L0.tsv"
    params:
        method="l0",
        method_params=sized_baseline("wild", "l0"),
        protocol=(
            None
            if config["evaluate"]["max_images"]
            else config["baselines"]["l0_wild_images"]
        ),


use rule baseline_si as baseline_l0_si with:
    input:
        manifest="results/si/manifest.csv",
        shards=SI_TEST_SHARD,
    output:
        table="results/si/evaluate/Xu2013-L0.csv",
        kernels="results/si/evaluate/Xu2013-L0-kernels.npz",
    log:
        "logs/si/evaluate-Xu2013-L0.log",
    benchmark:
        "results/benchmarks/si/evaluate-Xu2013-L0.tsv"
    params:
        method="l0",
        method_params=sized_baseline("si", "l0"),
        max_images=config["baselines"]["l0_si_images"],


rule baselines:
    input:
        "results/evaluate/Xu2013-L0.csv",
        "results/si/evaluate/Xu2013-L0.csv",
        expand("results/evaluate/{baseline}.csv", baseline=BASELINE_METHODS),
        expand("results/si/evaluate/{baseline}.csv", baseline=BASELINE_METHODS),
        "results/si/evaluate/oracle-wiener.csv",
