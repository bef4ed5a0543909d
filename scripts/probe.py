# Rule probe: ffprobe one video (or folder of frames) into JSON (wilddeblur.video.stages).
from wilddeblur.snakejob import log_to
from wilddeblur.video.stages import probe_video

log_to(snakemake)
probe_video(snakemake.input[0], snakemake.output[0], fps=snakemake.params.fps,
            **snakemake.params.probe)
