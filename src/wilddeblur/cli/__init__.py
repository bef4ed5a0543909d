"""The ``wilddeblur`` command: one subcommand per pipeline stage, for use by hand. The
workflow's rules run scripts/*.py, which call the same package functions."""

from __future__ import annotations

import argparse

from wilddeblur import __version__


def build_parser() -> argparse.ArgumentParser:
    from wilddeblur.cli import dataset, deploy, evaluation, training

    p = argparse.ArgumentParser(prog="wilddeblur", description=__doc__)
    p.add_argument("--version", action="version", version=f"wilddeblur {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, func, help_):
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=func)
        return sp

    for area in (dataset, training, evaluation, deploy):
        area.register(add)
    return p


def main(argv: list[str] | None = None) -> None:
    """Run one subcommand; an expected error (:mod:`wilddeblur.errors`) ends it with one line
    and exit status 1, anything else with its traceback."""
    from wilddeblur.errors import one_line

    args = build_parser().parse_args(argv)
    with one_line(f"wilddeblur {args.command}: error"):
        args.func(args)


if __name__ == "__main__":
    main()
