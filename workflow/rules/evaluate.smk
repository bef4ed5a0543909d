# §4: per-image PSNR/SSIM on the test split at full (downsampled-video) resolution.


rule evaluate_blurry:
    input:
        manifest="results/dataset/manifest.csv",
        shards=split_shards("test"),
    output:
        table="results/evaluate/blurry.csv",
    log:
        "logs/evaluate/blurry.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        method="blurry",
        device="auto",
        max_images=config["evaluate"]["max_images"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/evaluate.py"


rule evaluate_model:
    input:
        manifest="results/dataset/manifest.csv",
        shards=split_shards("test"),
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
        method=lambda wc: wc.model,
        max_images=config["evaluate"]["max_images"],
        device=config["evaluate"]["device"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/evaluate.py"
