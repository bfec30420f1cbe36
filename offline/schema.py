"""`make schema`: the JSON Schema of a stack file, generated from the config model.

Editors with the YAML language server read it through the `# yaml-language-server:
$schema=...` line at the top of each stack file: keys complete, each shows its
description, and a mistyped key or a quoted number is flagged as it is typed. The model
in components/config/ stays the one source; this file only reshapes it. Rules that
span keys (prod needs a backup region, say) are checked by the program, not here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from components.config import AWS_REGIONS, PROJECT, SECTIONS, Environment, StackConfig

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "stacks" / "stack-config.schema.json"


def _section_schema(section: str) -> dict[str, Any]:
    """A section's schema; a map section (`projects`) as an object of its entries' schema."""
    field = StackConfig.model_fields[section]
    assert field.annotation is not None
    schema = TypeAdapter(field.annotation).json_schema(by_alias=True)
    _drop_titles(schema)
    schema["description"] = field.description or f"The {section} settings."
    return schema


def _drop_titles(schema: Any) -> None:
    """pydantic's titles repeat the key names: drop them, at every level, but keep a property named `title`."""
    if isinstance(schema, dict):
        schema.pop("title", None) if isinstance(schema.get("title"), str) else None
        for value in schema.values():
            _drop_titles(value)
    elif isinstance(schema, list):
        for value in schema:
            _drop_titles(value)


def stack_file_schema() -> dict[str, Any]:
    teardown = StackConfig.model_fields["teardown"]
    config_properties: dict[str, Any] = {
        "aws:region": {"description": "The AWS region everything lives in.", "enum": list(AWS_REGIONS)},
        f"{PROJECT}:environment": {
            "description": "dev or prod: picks the safe defaults (protection, replication, capacity).",
            "enum": [e.value for e in Environment],
        },
        # `pulumi config set` writes booleans as the strings "true" and "false".
        f"{PROJECT}:teardown": {"description": teardown.description, "enum": [True, False, "true", "false"]},
        **{f"{PROJECT}:{section}": _section_schema(section) for section in SECTIONS},
    }
    # A map section's entries refer to their models by `#/$defs/...`: those live at the root.
    definitions = {name: model for schema in config_properties.values() for name, model in schema.pop("$defs", {}).items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Pulumi stack file of the {PROJECT} project",
        "description": "Generated from components/config/ by `make schema`; do not edit by hand.",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": config_properties,
                "required": ["aws:region", f"{PROJECT}:environment"],
                # Other namespaces (aws:, kubernetes:, pulumi:) belong to their providers.
                "patternProperties": {f"^(?!{PROJECT}:)[^:]+:.+$": {}},
                "additionalProperties": False,
            },
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["config"],
        "additionalProperties": False,
        **({"$defs": definitions} if definitions else {}),
    }


def render() -> str:
    return json.dumps(stack_file_schema(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the checked-in schema is out of date")
    args = parser.parse_args(argv)
    if args.check:
        if SCHEMA_PATH.read_text() != render():
            print(f"{SCHEMA_PATH.name} is out of date: run `make schema`", file=sys.stderr)
            return 1
        return 0
    SCHEMA_PATH.write_text(render())
    print(f"wrote {SCHEMA_PATH.relative_to(SCHEMA_PATH.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
