"""What the workflow's scripts (scripts/*.py, run by Snakemake's ``script:``) share: the job's
log, settings objects built from the validated config sections, and torchrun for several GPUs.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

from wilddeblur.errors import print_one_line

_console: int | None = None  # the job's stderr before log_to sent it to the log


def log_to(snakemake) -> None:
    """Send this process's stdout and stderr (its own, and its subprocesses': ffmpeg, tqdm,
    a traceback) to the job's log file, as ``> {log} 2>&1`` does for a shell rule; from here
    on an expected error (:mod:`wilddeblur.errors`) ends the job with one line, not a
    traceback (Snakemake prints the log of a failed job on the console)."""
    global _console
    sys.excepthook = print_one_line
    if not snakemake.log:
        return
    path = Path(snakemake.log[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    _console = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def tell(line: str) -> None:
    """One line for the job's log and for where Snakemake runs (the console of a local run)."""
    print(line, file=sys.stderr, flush=True)
    if _console is not None:
        os.write(_console, (line + "\n").encode())


def settings(cls, *sections: dict, **extra):
    """A settings dataclass from config sections (merged, later ones first) and ``extra``:
    every key must be a field (the schema and the dataclass agree; tests/test_defaults.py)."""
    names = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for section in sections:
        values.update(section)
    values.update(extra)
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{cls.__name__} has no field {unknown}")
    return cls(**values)


def relaunch_under_torchrun(snakemake, nproc: int) -> bool:
    """With ``nproc`` > 1, run this script again under ``torchrun`` (one process per GPU, DDP)
    and return True once they have finished; in those processes (and with one GPU) return
    False, so that the caller goes on to train."""
    if nproc <= 1 or "LOCAL_RANK" in os.environ:
        return False
    script = os.path.abspath(sys.argv[0])
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                    "--nproc-per-node", str(nproc), script], check=True)
    return True
