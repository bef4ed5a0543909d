# The embedded demo: 240 fps clips rendered from real photos, with their true motion.


rule demo_clip:
    output:
        video="results/demo/{video}.mp4",
        motion="results/demo/{video}.mp4.motion.csv",
    log:
        "logs/demo/{video}.log",
    conda:
        "../../envs/dataset.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        demo={k: v for k, v in config["demo"].items() if k != "clips"},
        seed=config["seed"],
        factor=config["downsample"]["factor"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/demo_clip.py"
