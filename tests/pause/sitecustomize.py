"""Put on PYTHONPATH by tests/test_workflow.py's interrupted run, so that every Python process
of that Snakemake run loads it: the training named by WILDDEBLUR_PAUSE ("DeblurNetWILD:3")
stops after checkpointing that step, writes the file WILDDEBLUR_PAUSED, and waits for a signal
(the test's Ctrl-C). The test decides when training is interrupted; no timing is involved."""

import os
import signal
import sys

if os.environ.get("WILDDEBLUR_PAUSE") and sys.argv[0].endswith(".train.py"):  # rule train's script
    import wilddeblur.training.loop as loop

    name_at, at_step = os.environ["WILDDEBLUR_PAUSE"].rsplit(":", 1)
    train, train_step = loop.train, loop.train_step

    def paused_train(*args, **kwargs):
        if kwargs.get("name") == name_at:
            calls = []

            def step_or_pause(*step_args):
                if len(calls) == int(at_step):  # steps 1..at_step are done and checkpointed
                    marker = os.environ["WILDDEBLUR_PAUSED"]
                    with open(marker + ".tmp", "w") as fh:
                        fh.write(at_step)
                    os.replace(marker + ".tmp", marker)
                    while True:
                        signal.pause()
                calls.append(1)
                return train_step(*step_args)

            loop.train_step = step_or_pause
        return train(*args, **kwargs)

    loop.train = paused_train
