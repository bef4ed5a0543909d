# §3: a network of the registry (model.arch) on the WILD train split, as {net}WILD
# (DeblurNetWILD, NAFNetWILD). Resumes from results/train/{net}WILD/last.pt.


rule train:
    input:
        manifest="results/dataset/manifest.csv",
        shards=split_shards("train", "test"),  # test: the monitoring (train.val_every)
        init=init_weights_file,  # train.init_from: the weights fine-tuning starts from
    output:
        model="results/train/{net}WILD/model.pt",
        history="results/train/{net}WILD/history.csv",
    log:
        "logs/train/{net}WILD.log",
    benchmark:
        "results/benchmarks/train/{net}WILD.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: config["resources"]["train_threads"]
    resources:
        mem_mb=config["resources"]["train_mem_mb"],
        runtime=config["resources"]["train_runtime"],
        gpu=config["resources"]["train_gpu"],
    params:
        name=lambda wc: f"{wc.net}WILD",
        train=sized_train("WILD"),
        model=config["model"],
        seed=config["seed"],
        settings_hash=network_hash("seed"),
        gpus=config["resources"]["train_gpu"],  # more than 1: DDP through torchrun
    script:
        "../../scripts/train.py"
