"""The README's two set-up commands are the ones CI and users run."""

import re

from tests.conftest import ROOT


def commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```(?:bash|sh)\n(apt-get update[^\n]*)\n```", readme)


def test_readme_has_exactly_two_setup_commands():
    demo, tests = commands()
    assert demo.endswith("snakemake --cores all")
    assert tests.endswith("pytest")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands()[1] in ci.splitlines()


def test_readme_is_a_page():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200
