"""Checkpoints as plain dicts of tensors and numbers, written atomically.

Everything in them loads with ``torch.load(weights_only=True)``: no pickled classes.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import torch

from wilddeblur.errors import CheckpointError
from wilddeblur.fileio import atomic_path


def save_atomic(obj: dict, path: Path) -> None:
    """``torch.save`` to a temp file beside ``path``, then rename: never a half-written file."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load(path: Path, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint safely; a corrupt or foreign file raises an error naming it."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises several types for bad files, some at length
        why = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path}: not a loadable checkpoint "
                              f"({why if len(why) <= 80 else why[:77] + '...'})") from err


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def resume_state(last: Path, key: str, key_name: str = "settings_hash") -> dict | None:
    """The checkpoint at ``last`` if it was made with settings ``key``, else None.

    A checkpoint made with other settings is moved aside (``last.<its key>.pt``), never
    overwritten or lost.
    """
    if not last.exists():
        return None
    ckpt = load(last)
    if ckpt.get(key_name) == key:
        return ckpt
    aside = last.with_name(f"last.{str(ckpt.get(key_name, 'unknown'))[:12]}.pt")
    os.replace(last, aside)
    print(f"{last}: made with other settings; moved to {aside.name}, starting afresh")
    return None


def truncate_log(log: Path, step: int, fields: list[str]) -> None:
    """Keep only the CSV log's rows up to ``step`` (steps after the last checkpoint are redone)."""
    if not log.exists():
        return
    with open(log, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if int(r["step"]) <= step]
    with open(log, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, restval="", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
