# §4: DeblurNetSI, DeblurNet trained on shift-invariant synthetic blur (Chakrabarti's kernels).
# DeblurNetSI on the WILD test split (Table 2) comes from evaluate.smk's `evaluate_model`
# (results/evaluate/DeblurNetSI.csv); the rules here add the SI test set (held-out kernels).


rule kernel_bank:
    output:
        bank="results/si/kernels.h5",
        figure="results/si/kernels.png",
    log:
        "logs/si/kernels.log",
    benchmark:
        "results/benchmarks/si/kernels.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        n=config["si"]["kernels"],
        test_fraction=config["si"]["test_fraction"],
        weight_floor=config["si"]["weight_floor"],
        seed=config["seed"],
        code_version=CODE_VERSION,
    shell:
        "wilddeblur kernels -n {params.n} --seed {params.seed}"
        " --test-fraction {params.test_fraction} --weight-floor {params.weight_floor}"
        " -o {output.bank} --figure {output.figure} > {log} 2>&1"


rule train_si:
    input:
        manifest="results/dataset/manifest.csv",
        bank="results/si/kernels.h5",
    output:
        "results/train/DeblurNetSI/model.pt",
    log:
        "logs/train/DeblurNetSI.log",
    benchmark:
        "results/benchmarks/train/DeblurNetSI.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: config["resources"]["train_threads"]
    resources:
        mem_mb=config["resources"]["train_mem_mb"],
        runtime=config["resources"]["train_runtime"],
        gpu=config["resources"]["train_gpu"],
    params:
        flags=cli_flags("train") + f" --width {config['model']['width']}",
        launcher=TRAIN_LAUNCHER,
        seed=config["seed"],
        settings_hash=settings_hash("train", "model", "seed", "si") + DATASET_HASH,
        out_dir=subpath(output[0], parent=True),
        noise_sigma=config["si"]["noise_sigma"],
        sharp=(
            "--sharp-dirs "
            + " ".join(shlex.quote(d) for d in config["si"]["image_dirs"])
            if config["si"]["image_dirs"]
            else ""
        ),
        wild=("" if config["si"]["wild_sharp"] else "--no-wild-sharp"),
    shell:
        "{params.launcher} train --manifest {input.manifest} --out-dir {params.out_dir}"
        " --name DeblurNetSI --synthetic-kernels {input.bank}"
        " --noise-sigma {params.noise_sigma} {params.sharp} {params.wild}"
        " {params.flags} --seed {params.seed} --settings-hash {params.settings_hash}"
        " > {log} 2>&1"


rule si_test_shard:
    input:
        manifest="results/dataset/manifest.csv",
        bank="results/si/kernels.h5",
    output:
        "results/si/test/shard-00000.h5",
    log:
        "logs/si/test-shard.log",
    benchmark:
        "results/benchmarks/si/test-shard.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        max_images=(
            f"--max-images {config['si']['test_images']}"
            if config["si"]["test_images"]
            else ""
        ),
        noise_sigma=config["si"]["noise_sigma"],
        seed=config["seed"],
        settings_hash=settings_hash("seed", "si") + DATASET_HASH,
    shell:
        "wilddeblur si-test --manifest {input.manifest} --bank {input.bank}"
        " --noise-sigma {params.noise_sigma} --seed {params.seed} {params.max_images}"
        " --settings-hash {params.settings_hash} -o {output} > {log} 2>&1"


rule si_manifest:
    input:
        "results/si/test/shard-00000.h5",
    output:
        "results/si/manifest.csv",
    log:
        "logs/si/manifest.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "wilddeblur manifest {input} -o {output} > {log} 2>&1"


rule evaluate_si_blurry:
    input:
        "results/si/manifest.csv",
    output:
        "results/si/evaluate/blurry.csv",
    log:
        "logs/si/evaluate-blurry.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "wilddeblur evaluate --manifest {input} --method blurry -o {output} > {log} 2>&1"


rule evaluate_si_model:
    input:
        manifest="results/si/manifest.csv",
        model="results/train/{model}/model.pt",
    output:
        "results/si/evaluate/{model}.csv",
    log:
        "logs/si/evaluate-{model}.log",
    conda:
        "../../envs/torch.yaml"
    threads: config["resources"]["train_threads"]
    resources:
        mem_mb=config["resources"]["train_mem_mb"],
        runtime=60,
        gpu=config["resources"]["train_gpu"],
    params:
        device=config["evaluate"]["device"],
    shell:
        "wilddeblur evaluate --manifest {input.manifest} --method {wildcards.model}"
        " --checkpoint {input.model} --device {params.device} -o {output} > {log} 2>&1"


ruleorder: evaluate_si_blurry > evaluate_si_model


rule si:
    input:
        "results/si/kernels.png",
        "results/evaluate/DeblurNetSI.csv",
        "results/si/evaluate/blurry.csv",
        "results/si/evaluate/DeblurNetSI.csv",
        "results/si/evaluate/DeblurNetWILD.csv",
