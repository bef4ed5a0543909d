"""Helpers of the ``wilddeblur`` command: flags from a settings dataclass, and back."""

from __future__ import annotations

import argparse
import dataclasses


def add_dataclass_flags(parser: argparse.ArgumentParser, cls, skip: tuple[str, ...] = ()) -> None:
    """One ``--flag`` per field of a settings dataclass, typed and defaulted from it."""
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        flag = "--" + field.name.replace("_", "-")
        default = field.default
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif default is None:  # "int | None", "str | None", ...: the annotation's first type
            kind = {"int": int, "float": float, "str": str}[str(field.type).split("|")[0].strip()]
            parser.add_argument(flag, type=kind, default=None, help="(default: none)")
        elif isinstance(default, tuple):  # a fixed-length pair, range, ...: that many values
            parser.add_argument(flag, type=type(default[0]), nargs=len(default), default=default,
                                help=f"(default: {' '.join(map(str, default))})")
        else:
            parser.add_argument(flag, type=type(default), default=default,
                                help=f"(default: {default})")


def settings_from(args: argparse.Namespace, cls, **extra):
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in vars(args).items() if k in names}, **extra)
