# §4: DeblurNetSI, DeblurNet trained on shift-invariant synthetic blur (Chakrabarti's kernels),
# and the same for every network of model.arch ({net}SI). On the WILD test split (Table 2) they
# come from evaluate.smk's `evaluate_model`; the rules here add the SI test set (held-out kernels).


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
        si=config["si"],
        seed=config["seed"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/kernel_bank.py"


rule train_si:
    input:
        manifest="results/dataset/manifest.csv",
        shards=split_shards("train", "test"),
        bank="results/si/kernels.h5",
        init=init_weights_file,
    output:
        model="results/train/{net}SI/model.pt",
        history="results/train/{net}SI/history.csv",
    log:
        "logs/train/{net}SI.log",
    benchmark:
        "results/benchmarks/train/{net}SI.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: config["resources"]["train_threads"]
    resources:
        mem_mb=config["resources"]["train_mem_mb"],
        runtime=config["resources"]["train_runtime"],
        gpu=config["resources"]["train_gpu"],
    params:
        name=lambda wc: f"{wc.net}SI",
        train=sized_train("SI"),
        model=config["model"],
        si=config["si"],
        seed=config["seed"],
        settings_hash=network_hash("seed", "si"),
        gpus=config["resources"]["train_gpu"],  # more than 1: DDP through torchrun
    script:
        "../../scripts/train.py"


rule si_test_shard:
    input:
        manifest="results/dataset/manifest.csv",
        shards=split_shards("test"),
        bank="results/si/kernels.h5",
    output:
        SI_TEST_SHARD,
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
        si=config["si"],
        seed=config["seed"],
        settings_hash=settings_hash("seed", "si") + DATASET_HASH,
    script:
        "../../scripts/si_test_shard.py"


rule si_manifest:
    input:
        SI_TEST_SHARD,
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
    script:
        "../../scripts/manifest.py"


rule evaluate_si_blurry:
    input:
        manifest="results/si/manifest.csv",
        shards=SI_TEST_SHARD,
    output:
        table="results/si/evaluate/blurry.csv",
    log:
        "logs/si/evaluate-blurry.log",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        method="blurry",
        device="auto",
        max_images=None,
    script:
        "../../scripts/evaluate.py"


rule evaluate_si_model:
    input:
        manifest="results/si/manifest.csv",
        shards=SI_TEST_SHARD,
        model="results/train/{model}/model.pt",
    output:
        table="results/si/evaluate/{model}.csv",
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
        method=lambda wc: wc.model,
        device=config["evaluate"]["device"],
        max_images=None,
    script:
        "../../scripts/evaluate.py"


ruleorder: evaluate_si_blurry > evaluate_si_model


rule si:
    input:
        "results/si/kernels.png",
        expand("results/evaluate/{model}.csv", model=NETWORKS),
        "results/si/evaluate/blurry.csv",
        expand("results/si/evaluate/{model}.csv", model=NETWORKS),
