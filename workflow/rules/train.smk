# §3: DeblurNet on the WILD train split. Resumes from results/train/<name>/last.pt.


rule train:
    input:
        manifest="results/dataset/manifest.csv",
        shards=split_shards("train", "test"),  # test: the monitoring (train.val_every)
    output:
        model="results/train/DeblurNetWILD/model.pt",
        history="results/train/DeblurNetWILD/history.csv",
    log:
        "logs/train/DeblurNetWILD.log",
    benchmark:
        "results/benchmarks/train/DeblurNetWILD.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: config["resources"]["train_threads"]
    resources:
        mem_mb=config["resources"]["train_mem_mb"],
        runtime=config["resources"]["train_runtime"],
        gpu=config["resources"]["train_gpu"],
    params:
        name="DeblurNetWILD",
        train=config["train"],
        width=config["model"]["width"],
        seed=config["seed"],
        settings_hash=settings_hash("train", "model", "seed") + DATASET_HASH,
        gpus=config["resources"]["train_gpu"],  # more than 1: DDP through torchrun
    script:
        "../../scripts/train.py"
