"""The configuration reference in docs/ is the one the schema generates."""

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
