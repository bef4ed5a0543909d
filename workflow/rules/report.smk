# Table 2 (psnr.csv), report.md, the examples figure, Figs. 2, 9, 10, dataset statistics and
# real blurry photos; every figure is flagged for `snakemake --report` with its caption.


rule report:
    input:
        blurry="results/evaluate/blurry.csv",
        model="results/evaluate/DeblurNetWILD.csv",
        si_model="results/evaluate/DeblurNetSI.csv",
        l0="results/evaluate/Xu2013-L0.csv",
        si_test=expand(
            "results/si/evaluate/{method}.csv",
            method=[
                "blurry",
                "DeblurNetSI",
                "DeblurNetWILD",
                "Xu2013-L0",
                "oracle-wiener",
            ],
        ),
        kernels="results/si/kernels.png",
        examples="results/evaluate/DeblurNetWILD-examples",
        selection="results/select/selection.csv",
        manifest="results/dataset/manifest.csv",
        verify="results/dataset/verify.txt",
        trained="results/train/DeblurNetWILD/model.pt",
        external=EXTERNAL_EVALUATIONS,
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
        train_log="results/train/DeblurNetWILD/log.csv",
        context=lambda wc: shlex.quote(
            json.dumps(
                {
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
                }
            )
        ),
        real_blurry=(
            f"--real-blurry {shlex.quote(config['report']['real_blurry_dir'])}"
            if config["report"]["real_blurry_dir"]
            else ""
        ),
        external=lambda wc, input: (
            f"--external-evaluations {input.external}" if input.external else ""
        ),
        figures=lambda wc, output: os.path.dirname(output.dataset),
        report_flags=(
            f"--real-max-side {config['report']['real_max_side']}"
            f" --n-extremes {config['report']['n_extremes']}"
            f" --device {config['report']['device']}"
        ),
        code_version=CODE_VERSION,
    shell:
        "wilddeblur report --evaluations {input.blurry} {input.model} {input.si_model}"
        " {input.l0}"
        " --si-evaluations {input.si_test} --kernels-figure {input.kernels}"
        " --selection {input.selection} --train-log {params.train_log}"
        " --dataset-root results/dataset --examples {input.examples}"
        " --manifest {input.manifest} --model {input.trained}"
        " --figures-dir {params.figures} {params.real_blurry} {params.report_flags}"
        " {params.external} --verify {input.verify} --context {params.context}"
        " --output-dir results/report"
        " > {log} 2>&1"
