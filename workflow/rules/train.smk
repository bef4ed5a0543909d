# §3: DeblurNet on the WILD train split. Resumes from results/train/<name>/last.pt.


rule train:
    input:
        "results/dataset/manifest.csv",
    output:
        "results/train/DeblurNetWILD/model.pt",
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
        flags=cli_flags("train") + f" --width {config['model']['width']}",
        launcher=TRAIN_LAUNCHER,
        seed=config["seed"],
        settings_hash=settings_hash("train", "model", "seed") + DATASET_HASH,
        out_dir=subpath(output[0], parent=True),
    shell:
        "{params.launcher} train --manifest {input} --out-dir {params.out_dir} --name DeblurNetWILD"
        " {params.flags} --seed {params.seed} --settings-hash {params.settings_hash}"
        " > {log} 2>&1"
