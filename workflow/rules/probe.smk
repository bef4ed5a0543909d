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
        fps=lambda wc: (
            f"--fps {config['fps_override'][wc.video]}"
            if wc.video in config["fps_override"]
            else ""
        ),
        min_fps=config["probe"]["min_fps"],
        warn_fps=config["probe"]["warn_fps"],
        image_fps=config["probe"]["image_fps"],
        code_version=CODE_VERSION,
    shell:
        "wilddeblur probe {input} -o {output} {params.fps} --min-fps {params.min_fps}"
        " --warn-fps {params.warn_fps} --image-fps {params.image_fps} > {log} 2>&1"
