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
        "results/dataset/manifest.csv",
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
        l0=shlex.quote(json.dumps(config["baselines"]["l0"], sort_keys=True)),
        # the other WILD evaluations' images: their first N if evaluate.max_images is set,
        # else the report's test-15 protocol images (the same draw, with the same seed)
        images=(
            f"--max-images {config['evaluate']['max_images']}"
            if config["evaluate"]["max_images"]
            else (
                f"--protocol {config['baselines']['l0_wild_images']} --seed {config['seed']}"
                if config["baselines"]["l0_wild_images"]
                else ""
            )
        ),
        code_version=CODE_VERSION,
    shell:
        "wilddeblur baseline --method l0 --manifest {input} --params {params.l0}"
        " {params.images} --kernels {output.kernels} --examples {output.examples}"
        " -o {output.table} > {log} 2>&1"


rule baseline_l0_si:
    input:
        "results/si/manifest.csv",
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
        l0=shlex.quote(json.dumps(config["baselines"]["l0"], sort_keys=True)),
        images=(
            f"--max-images {config['baselines']['l0_si_images']}"
            if config["baselines"]["l0_si_images"]
            else ""
        ),
        code_version=CODE_VERSION,
    shell:
        "wilddeblur baseline --method l0 --manifest {input} --params {params.l0}"
        " {params.images}"
        " --kernels {output.kernels} -o {output.table} > {log} 2>&1"


rule baseline_oracle_si:
    input:
        manifest="results/si/manifest.csv",
        bank="results/si/kernels.h5",
    output:
        "results/si/evaluate/oracle-{deconvolution}.csv",
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
        oracle=lambda wc: shlex.quote(
            json.dumps(
                {"deconvolution": wc.deconvolution}
                | (
                    {
                        "noise_sigma": max(
                            config["si"]["noise_sigma"], 1 / 255 / 12**0.5
                        )
                    }
                    if wc.deconvolution == "wiener"
                    else {}
                )
            )
        ),
        code_version=CODE_VERSION,
    shell:
        "wilddeblur baseline --method oracle --manifest {input.manifest} --bank {input.bank}"
        " --params {params.oracle} -o {output} > {log} 2>&1"


rule baselines:
    input:
        "results/evaluate/Xu2013-L0.csv",
        "results/si/evaluate/Xu2013-L0.csv",
        "results/si/evaluate/oracle-wiener.csv",
