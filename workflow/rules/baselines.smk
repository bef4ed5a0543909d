# Table 2's classical baselines (wilddeblur.evaluation.baselines), computed here: L0 blind deblurring
# ("Xu et al. 2013", the paper's [44], in Pan et al. 2014's form) on the WILD test split and on
# the SI test set, and the non-blind oracle (each image's true kernel) on the SI test set.
# Proposed, not yet included by the Snakefile: `include: "workflow/rules/baselines.smk"` after
# si.smk (it uses si.smk's outputs and common.smk's helpers). Conda env: torch.yaml, not
# dataset.yaml, because wilddeblur.evaluation.evaluate imports torch at module level.


wildcard_constraints:
    deconvolution="wiener|hyper-laplacian",


rule baseline_l0_wild:
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
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=config["baselines"]["l0_runtime"],
    params:
        method="l0",
        method_params=config["baselines"]["l0"],
        # the other WILD evaluations' images: their first N if evaluate.max_images is set,
        # else the report's test-15 protocol images (the same draw, with the same seed)
        max_images=config["evaluate"]["max_images"],
        protocol=(
            None
            if config["evaluate"]["max_images"]
            else config["baselines"]["l0_wild_images"]
        ),
        seed=config["seed"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/baseline.py"


rule baseline_l0_si:
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
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=config["baselines"]["l0_runtime"],
    params:
        method="l0",
        method_params=config["baselines"]["l0"],
        max_images=config["baselines"]["l0_si_images"],
        protocol=None,
        seed=config["seed"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/baseline.py"


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


rule baselines:
    input:
        "results/evaluate/Xu2013-L0.csv",
        "results/si/evaluate/Xu2013-L0.csv",
        "results/si/evaluate/oracle-wiener.csv",
