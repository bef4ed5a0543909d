"""Errors for bad inputs; each message names the file or config key it is about.

These (and a missing file) are the expected errors: the ``wilddeblur`` command, the workflow's
scripts and the Snakefile print them as one line and exit non-zero (:func:`one_line`); any
other exception is a bug and keeps its traceback. Each also derives from the built-in type it
replaced.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class WilddeblurError(Exception):
    """An expected error: a bad input, setting or file, named in the message."""


class VideoError(WilddeblurError, RuntimeError):
    """A video (or folder of frames) could not be read or written."""


class ConfigError(WilddeblurError, ValueError):
    """A config key (or the command-line option standing for it) has a value that cannot work."""


class ShardError(WilddeblurError, RuntimeError):
    """A shard is missing, truncated, altered, or cannot be written as asked."""


class CheckpointError(WilddeblurError, RuntimeError):
    """A checkpoint or weights file is missing, cannot be loaded or does not fit."""


class MissingExtraError(WilddeblurError, ImportError):
    """An optional feature's packages are not installed; the message says which pip install."""


class SplitError(WilddeblurError, ValueError):
    """The train/test split cannot work: a split would be empty."""


class SelectionError(WilddeblurError):
    """Window selection kept nothing for a split; the message says why, video by video."""


def expected(err: BaseException) -> str | None:
    """The one-line message of an expected error: ours, or a file that is not there (a path
    given by hand); None for anything else."""
    if isinstance(err, WilddeblurError):
        return str(err)
    if isinstance(err, FileNotFoundError) and err.filename:
        return f"{err.filename}: no such file"
    return None


@contextmanager
def one_line(prefix: str = "error") -> Iterator[None]:
    """Turn an expected error into ``SystemExit("{prefix}: {message}")``: one line on stderr
    and exit status 1, no traceback. Other exceptions pass through unchanged."""
    try:
        yield
    except (WilddeblurError, FileNotFoundError) as err:
        message = expected(err)
        if message is None:
            raise
        raise SystemExit(f"{prefix}: {message}") from None


def print_one_line(exc_type, exc, tb) -> None:
    """A ``sys.excepthook``: expected errors as one line, anything else as usual."""
    message = expected(exc)
    if message is None:
        sys.__excepthook__(exc_type, exc, tb)
    else:
        print(f"error: {message}", file=sys.stderr)
