"""Checking a workflow configuration against its JSON schema, with errors that name the key."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from wilddeblur.errors import ConfigError


def check_config(config: dict, schema_path: Path) -> None:
    """Raise ``ConfigError("config key 'train.stepz': ...")`` for the first problem found."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is None:
        return
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known))
        key = ".".join([path, extra[0]]) if path else extra[0]
        raise ConfigError(f"config key '{key}' is unknown; known keys here: {', '.join(known)}")
    raise ConfigError(f"config key '{path or '(top level)'}': {error.message}")
