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


# After probe, before any decoding (flow's input function waits for it): every size-dependent
# setting against the smallest downsampled frames of its split; each adapts (a note) or the run
# stops in one line (wilddeblur.training.sizes). It reads the settings from the config, not from
# params: changing them must not run it (and so select) again; each start of the workflow
# checks them against the probes (common.smk), and sized_train / sized_baseline adapt them.
checkpoint sizes:
    input:
        PROBES,
    output:
        SIZES,
    log:
        "logs/probe/sizes.log",
    conda:
        "../../envs/dataset.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        splits=VIDEO_SPLITS,
        factor=config["downsample"]["factor"],
        code_version=CODE_VERSION,
    script:
        "../../scripts/sizes.py"
