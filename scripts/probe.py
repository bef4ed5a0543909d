# Rule probe: ffprobe one video (or folder of frames) into JSON (wilddeblur.video.stages); its
# notes (a capture rate used, a low frame rate) go to the console too.
from wilddeblur.snakejob import log_to, tell
from wilddeblur.video.stages import probe_video

log_to(snakemake)
info = probe_video(snakemake.input[0], snakemake.output[0], fps=snakemake.params.fps,
                   **snakemake.params.probe)
for note in info.notes:
    tell(f"warning: {note}")
