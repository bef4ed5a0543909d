# Rule demo_clip: render one embedded demo clip and its true motion (wilddeblur.video.demo).
from wilddeblur.snakejob import log_to
from wilddeblur.video.demo import render_clip

log_to(snakemake)
demo = snakemake.params.demo
render_clip(snakemake.wildcards.video, snakemake.output.video, width=demo["width"],
            height=demo["height"], fps=demo["fps"], seconds=demo["seconds"],
            seed=snakemake.params.seed, factor=snakemake.params.factor)
