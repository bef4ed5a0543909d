# Table 2 (psnr.csv), report.md, the examples figure, Figs. 2, 9, 10, dataset statistics and
# real blurry photos; every figure is flagged for `snakemake --report` with its caption.


rule report:
    input:
        blurry="results/evaluate/blurry.csv",
        networks=expand("results/evaluate/{model}.csv", model=NETWORKS),
        l0="results/evaluate/Xu2013-L0.csv",
        baselines=expand("results/evaluate/{baseline}.csv", baseline=BASELINE_METHODS),
        si_test=expand(
            "results/si/evaluate/{method}.csv",
            method=[
                "blurry",
                *NETWORKS,
                "Xu2013-L0",
                *BASELINE_METHODS,
                "oracle-wiener",
            ],
        ),
        kernels="results/si/kernels.png",
        examples=expand("results/evaluate/{model}-examples", model=NETWORKS),
        selection="results/select/selection.csv",
        manifest="results/dataset/manifest.csv",
        shards=all_shards,  # examples and figures read the images
        verify="results/dataset/verify.txt",
        trained=expand("results/train/{model}/model.pt", model=NETWORKS),
        train_logs=expand("results/train/{model}/history.csv", model=NETWORKS),
        external=EXTERNAL_EVALUATIONS,
        probes=expand("results/probe/{video}.json", video=VIDEOS),  # their notes, on top
    output:
        psnr=report(
            "results/report/psnr.csv",
            caption="../report/table2.rst",
            category="Table 2",
            labels={"table": "PSNR / SSIM"},
        ),
        md="results/report/report.md",
        png=report(
            "results/report/examples.png",
            caption="../report/examples.rst",
            category="Table 2",
            labels={"figure": "examples"},
        ),
        dataset=report(
            "results/report/figures/dataset.png",
            caption="../report/dataset.rst",
            category="Dataset",
            labels={"figure": "statistics"},
        ),
        pair=report(
            "results/report/figures/fig2_pair.png",
            caption="../report/fig2_pair.rst",
            category="Dataset",
            labels={"figure": "Fig. 2"},
        ),
        fig9=report(
            "results/report/figures/fig9_residual_vs_blur.png",
            caption="../report/fig9_residual_vs_blur.rst",
            category="Analysis (Figs. 9-10)",
            labels=fig9_labels,
        ),
        residuals=report(
            "results/report/figures/residuals.csv",
            caption="../report/residuals.rst",
            category="Analysis (Figs. 9-10)",
            labels={"figure": "Fig. 9 (table)", "Pearson r": ""},
        ),
        fig10=report(
            "results/report/figures/fig10_extremes.png",
            caption="../report/fig10_extremes.rst",
            category="Analysis (Figs. 9-10)",
            labels={"figure": "Fig. 10", "Pearson r": ""},
        ),
        real=report(
            "results/report/figures/real_blurry.png",
            caption="../report/real_blurry.rst",
            category="Real blurry photos",
            labels={"figure": "input | output"},
        ),
        figures_json="results/report/figures/figures.json",
    log:
        "logs/report/report.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        context=lambda wc: {
            "data": (
                f"{len(VIDEOS)} video(s) from config `videos`"
                if config["videos"]
                else "the embedded demo ("
                + ", ".join(VIDEOS)
                + f"; {config['demo']['width']}x{config['demo']['height']} at "
                f"{config['demo']['fps']:g} fps, {config['demo']['seconds']:g} s)"
            ),
            **config["select"],
            "seed": config["seed"],
            "train": config["train"],
            "model": config["model"],
            **size_notes(),
        },
        report=config["report"],
        networks=NETWORKS,
        code_version=CODE_VERSION,
    script:
        "../../scripts/report.py"
