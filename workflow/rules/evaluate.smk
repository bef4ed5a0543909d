# §4: per-image PSNR/SSIM on the test split at full (downsampled-video) resolution.


rule evaluate_blurry:
    input:
        "results/dataset/manifest.csv",
    output:
        "results/evaluate/blurry.csv",
    log:
        "logs/evaluate/blurry.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        max_images=(
            f"--max-images {config['evaluate']['max_images']}"
            if config["evaluate"]["max_images"]
            else ""
        ),
        code_version=CODE_VERSION,
    shell:
        "wilddeblur evaluate --manifest {input} --method blurry {params.max_images}"
        " -o {output} > {log} 2>&1"


rule evaluate_model:
    input:
        manifest="results/dataset/manifest.csv",
        model="results/train/{model}/model.pt",
    output:
        table="results/evaluate/{model}.csv",
        examples=directory("results/evaluate/{model}-examples"),
    log:
        "logs/evaluate/{model}.log",
    conda:
        "../../envs/torch.yaml"
    threads: config["resources"]["train_threads"]
    resources:
        mem_mb=config["resources"]["train_mem_mb"],
        runtime=60,
        gpu=config["resources"]["train_gpu"],
    params:
        max_images=(
            f"--max-images {config['evaluate']['max_images']}"
            if config["evaluate"]["max_images"]
            else ""
        ),
        device=config["evaluate"]["device"],
        code_version=CODE_VERSION,
    shell:
        "wilddeblur evaluate --manifest {input.manifest} --method {wildcards.model}"
        " --checkpoint {input.model} --device {params.device} {params.max_images}"
        " --examples {output.examples} -o {output.table} > {log} 2>&1"
