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
        size=lambda wc: f"--width {config['demo']['width']} --height {config['demo']['height']}",
        fps=config["demo"]["fps"],
        seconds=config["demo"]["seconds"],
        seed=config["seed"],
        factor=config["downsample"]["factor"],
        code_version=CODE_VERSION,
    shell:
        "wilddeblur demo {wildcards.video} -o {output.video} {params.size} --fps {params.fps}"
        " --seconds {params.seconds} --seed {params.seed} --factor {params.factor} > {log} 2>&1"
