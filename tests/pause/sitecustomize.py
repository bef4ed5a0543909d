"""Put on PYTHONPATH by tests/test_workflow.py's interrupted run, so that every Python process
of that Snakemake run loads it: the training named by WILDDEBLUR_PAUSE ("DeblurNetWILD:3")
stops after checkpointing that step, writes the file WILDDEBLUR_PAUSED, and waits for a signal
(the test's Ctrl-C). The test decides when training is interrupted; no timing is involved."""

import os
import signal
import sys

if os.environ.get("WILDDEBLUR_PAUSE") and sys.argv[0].endswith(".train.py"):  # rule train's script
    import wilddeblur.engine.loop as loop

    name_at, at_step = os.environ["WILDDEBLUR_PAUSE"].rsplit(":", 1)
    optimizer_step, done = loop.optimizer_step, []

    def step_or_pause(job, *args, **kwargs):
        """The engine's step, except for ``name_at``'s step after ``at_step``: by then steps
        1..at_step are done and checkpointed (the test's config checkpoints every step)."""
        if job.name == name_at:
            if len(done) == int(at_step):
                marker = os.environ["WILDDEBLUR_PAUSED"]
                with open(marker + ".tmp", "w") as fh:
                    fh.write(at_step)
                os.replace(marker + ".tmp", marker)
                while True:
                    signal.pause()
            done.append(1)
        return optimizer_step(job, *args, **kwargs)

    loop.optimizer_step = step_or_pause
