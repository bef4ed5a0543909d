# Other authors' test sets on disk (GoPro layout, RealBlur-style lists): per-image PSNR/SSIM.


rule evaluate_external:
    input:
        model=external_model,
    output:
        table="results/evaluate/external/{set}/{method}.csv",
    log:
        "logs/evaluate/external/{set}/{method}.log",
    benchmark:
        "benchmarks/evaluate/external/{set}/{method}.tsv"
    wildcard_constraints:
        set="gopro|realblur",
        method=f"blurry|{name_pattern()}",
    conda:
        "../../envs/torch.yaml"
    threads: config["resources"]["train_threads"]
    resources:
        mem_mb=config["resources"]["train_mem_mb"],
        runtime=120,
        gpu=lambda wc: 0 if wc.method == "blurry" else config["resources"]["train_gpu"],
    params:
        source=lambda wc: EXTERNAL_SETS[wc.set],
        max_images=config["external"]["max_images"],
        factor=config["external"]["factor"],
        device=config["evaluate"]["device"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/evaluate_external.py"
