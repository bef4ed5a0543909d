"""The documentation: the configuration reference is the one the schema generates, and links
between pages resolve."""

import re

import pytest
import yaml

from tests.conftest import ROOT
from wilddeblur.config_reference import reference


def test_configuration_reference_matches_the_schema():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    page = (ROOT / "docs/configuration-reference.md").read_text()
    assert page == reference(schema), (
        "docs/configuration-reference.md is stale: run "
        "`python -m wilddeblur.config_reference > docs/configuration-reference.md`")


def test_configuration_reference_names_every_key():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    page = (ROOT / "docs/configuration-reference.md").read_text()

    def keys(properties: dict, prefix: str = ""):
        for name, node in properties.items():
            yield f"{prefix}{name}"
            yield from keys(node.get("properties", {}), f"{prefix}{name}.")

    missing = [k for k in keys(schema["properties"]) if f"`{k}`" not in page]
    assert not missing, missing


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    found, seen = set(), {}
    for line in re.sub(r"```.*?```", "", markdown, flags=re.S).splitlines():
        if m := re.match(r"#+ (.*)", line):
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            found.add(f"{slug}-{n}" if n else slug)
    return found


@pytest.mark.parametrize("page", ["README.md", *sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))])
def test_relative_links_resolve(page):
    """Every relative link of README.md and docs/*.md names a file that exists, and a heading
    of it when it names one."""
    path = ROOT / page
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists() or (anchor and dest.suffix == ".md"
                                 and anchor not in anchors(dest.read_text())):
            broken.append(target)
    assert not broken, f"{page}: {broken}"
