# FlowNetS trained from scratch on synthetic pairs with exact flow (no pretrained FlowNet weights
# can be downloaded), written in the public FlowNetPytorch format for flow.backend: flownets.
# Not part of the default target: snakemake results/flownet/flownets_trained.pth.tar
# Resumes from results/flownet/last.pt. EPE against DIS/Farneback: results/flownet/epe.csv.

FLOWNET_CLIPS = (
    []
    if config["videos"]
    else [str(VIDEOS[c]) for c in config["train_flow"]["demo_clips"] if c in VIDEOS]
)
if not config["videos"] and set(config["train_flow"]["demo_clips"]) - set(VIDEOS):
    raise ValueError(
        "train_flow.demo_clips: "
        f"{sorted(set(config['train_flow']['demo_clips']) - set(VIDEOS))} "
        f"are not among demo.clips {sorted(VIDEOS)}"
    )


rule train_flownet:
    input:
        clips=FLOWNET_CLIPS,
        motion=[f"{c}.motion.csv" for c in FLOWNET_CLIPS],
    output:
        weights="results/flownet/flownets_trained.pth.tar",
        epe="results/flownet/epe.csv",
        pairs="results/flownet/epe_pairs.csv",
    log:
        "logs/flownet/train_flownet.log",
    benchmark:
        "results/benchmarks/flownet/train_flownet.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: config["resources"]["train_threads"]
    resources:
        mem_mb=config["resources"]["train_mem_mb"],
        runtime=config["resources"]["train_runtime"],
        gpu=config["resources"]["train_gpu"],
    params:
        train_flow={k: v for k, v in config["train_flow"].items() if k != "demo_clips"},
        seed=config["seed"],
        factor=config["downsample"]["factor"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/train_flownet.py"
