# Table 2 (psnr.csv), report.md and a figure of blurry / deblurred / sharp examples.


rule report:
    input:
        blurry="results/evaluate/blurry.csv",
        model="results/evaluate/DeblurNetWILD.csv",
        si_model="results/evaluate/DeblurNetSI.csv",
        si_test=expand(
            "results/si/evaluate/{method}.csv",
            method=["blurry", "DeblurNetSI", "DeblurNetWILD"],
        ),
        kernels="results/si/kernels.png",
        examples="results/evaluate/DeblurNetWILD-examples",
        selection="results/select/selection.csv",
        trained="results/train/DeblurNetWILD/model.pt",
    output:
        psnr="results/report/psnr.csv",
        md="results/report/report.md",
        png="results/report/examples.png",
    log:
        "logs/report/report.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
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
                }
            )
        ),
        code_version=CODE_VERSION,
    shell:
        "wilddeblur report --evaluations {input.blurry} {input.model} {input.si_model}"
        " --si-evaluations {input.si_test} --kernels-figure {input.kernels}"
        " --selection {input.selection} --train-log {params.train_log}"
        " --dataset-root results/dataset --examples {input.examples}"
        " --context {params.context} --output-dir results/report > {log} 2>&1"
