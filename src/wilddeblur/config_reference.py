"""The configuration reference page, generated from the config schema (the one source of keys
and defaults): ``python -m wilddeblur.config_reference > docs/configuration-reference.md``.

tests/test_docs.py fails when the committed page and the schema disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from wilddeblur.errors import one_line

SCHEMA = Path("workflow/schemas/config.schema.yaml")
HEADER = """\
# Configuration reference

<!-- Generated from workflow/schemas/config.schema.yaml by
     `python -m wilddeblur.config_reference > docs/configuration-reference.md`; do not edit by
     hand (tests/test_docs.py checks that the two agree). -->

Every key of a config file (`config.yaml`, `config/paper.yaml`, your own `--configfile`) is
checked against the schema: an unknown or mistyped key stops the run with a message naming it.
Keys are written here as `section.key`; in YAML they nest (`train: {steps: 300}`). A default of
"–" means the key is unset unless given (the description says what then applies). How to use
them: [configuration.md](configuration.md).
"""


def _text(description: str | None) -> str:
    """One line of a table cell: folded whitespace, pipes escaped."""
    return " ".join((description or "").split()).replace("|", "\\|")


def _value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _allowed(node: dict) -> str:
    """The values a key accepts, in words: its type, choices and bounds."""
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    kinds = node.get("type", "any")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    if "array" in kinds and "items" in node:
        kinds[kinds.index("array")] = f"list of {_allowed(node['items'])}"
    text = " or ".join(kinds)
    bounds = [(op, node[key]) for key, op in (("minimum", "≥"), ("exclusiveMinimum", ">"),
                                             ("maximum", "≤"), ("exclusiveMaximum", "<"))
              if key in node]
    text += "".join(f", {op} {_value(v)}" for op, v in bounds)
    if "multipleOf" in node:
        text += f", a multiple of {node['multipleOf']}"
    if node.get("not") == {"multipleOf": 2}:
        text += ", odd"
    if "minItems" in node and node.get("minItems") == node.get("maxItems"):
        text += f", {node['minItems']} items"
    elif "minItems" in node:
        text += f", at least {node['minItems']} item{'s' * (node['minItems'] > 1)}"
    if "pattern" in node:
        text += f", matching `{node['pattern']}`"
    return text


def _rows(properties: dict, prefix: str) -> list[str]:
    """Table rows of a section's keys; nested objects with their own keys are flattened."""
    rows = []
    for name, node in properties.items():
        key = f"{prefix}{name}"
        if node.get("type") == "object" and "properties" in node:
            rows.append(f"| `{key}` | | section | {_text(node.get('description'))} |")
            rows += _rows(node["properties"], f"{key}.")
            continue
        default = f"`{_value(node['default'])}`".replace("|", "\\|") if "default" in node else "–"
        allowed = _allowed(node).replace("|", "\\|")
        rows.append(f"| `{key}` | {default} | {allowed} | "
                    f"{_text(node.get('description'))} |")
    return rows


def reference(schema: dict) -> str:
    """The Markdown page: the schema's description, then one table per top-level section."""
    parts = [HEADER, _text(schema.get("description")) + "\n"]
    top = [(k, v) for k, v in schema["properties"].items() if "properties" not in v]
    sections = [(k, v) for k, v in schema["properties"].items() if "properties" in v]
    table = "| key | default | allowed | meaning |\n| --- | --- | --- | --- |\n"
    parts.append("## Top level\n\n" + table + "\n".join(_rows(dict(top), "")) + "\n")
    for name, node in sections:
        intro = _text(node.get("description"))
        parts.append(f"## `{name}`\n\n" + (intro + "\n\n" if intro else "") + table
                     + "\n".join(_rows(node["properties"], f"{name}.")) + "\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("schema", nargs="?", type=Path, default=SCHEMA,
                        help=f"the config schema (default: {SCHEMA}, from the repository root)")
    args = parser.parse_args(argv)
    with one_line():
        sys.stdout.write(reference(yaml.safe_load(args.schema.read_text())))


if __name__ == "__main__":
    main()
