# ffprobe: frame rate, size, rotation, frames counted by decoding.


rule probe:
    input:
        lambda wc: VIDEOS[wc.video],
    output:
        "results/probe/{video}.json",
    log:
        "logs/probe/{video}.log",
    conda:
        "../../envs/dataset.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=config["resources"]["video_runtime"],
    params:
        fps=lambda wc: config["fps_override"].get(wc.video),
        probe=config["probe"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/probe.py"
