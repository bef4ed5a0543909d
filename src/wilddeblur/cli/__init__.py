"""The ``wilddeblur`` command: one subcommand per pipeline stage, for use by hand. The
workflow's rules run scripts/*.py, which call the same package functions."""

from __future__ import annotations

import argparse

from wilddeblur import __version__


def build_parser() -> argparse.ArgumentParser:
    from wilddeblur.cli import dataset, evaluation, training

    p = argparse.ArgumentParser(prog="wilddeblur", description=__doc__)
    p.add_argument("--version", action="version", version=f"wilddeblur {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, func, help_):
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=func)
        return sp

    for area in (dataset, training, evaluation):
        area.register(add)
    return p


def main(argv: list[str] | None = None) -> None:
    from wilddeblur.errors import VideoError

    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (VideoError, ValueError, RuntimeError, FileNotFoundError) as err:
        raise SystemExit(f"wilddeblur {args.command}: error: {err}") from err


if __name__ == "__main__":
    main()
