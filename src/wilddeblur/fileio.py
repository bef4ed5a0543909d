"""Writing files atomically: a temp file beside the target, renamed onto it when complete, so a
reader (or a resumed run) never sees a half-written file. The one helper every stage uses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


@contextmanager
def atomic_path(path: Path, tmp_suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temp path beside ``path`` (``path.name + tmp_suffix``) to write to; when the
    block ends without an error, rename it onto ``path``. The temp file never stays behind.
    The parent folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + tmp_suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_csv_atomic(df: pd.DataFrame, path: Path, **to_csv) -> None:
    """``df.to_csv(index=False, **to_csv)``, atomically."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, **to_csv)
