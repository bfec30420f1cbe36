"""Custom resources checked against their CRDs' schemas (tests/data/crds, see SOURCE.txt there),
as strictly as the API server's strict field validation: a field the schema does not name is
an error, except below `x-kubernetes-preserve-unknown-fields`."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

CRDS = Path(__file__).parent / "data" / "crds"


@cache
def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the JSON schema of that custom resource."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRDS.glob("*.json")):
        crd = json.loads(path.read_text())
        found[(f"{crd['group']}/{crd['version']}", crd["kind"])] = _strict(crd["schema"])
    return found


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI v3 structural schema as a JSON schema that refuses unknown fields."""
    schema = dict(schema)
    if schema.pop("x-kubernetes-int-or-string", False):
        schema.pop("type", None)
        schema["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if "properties" in schema:
        schema["properties"] = {name: _strict(child) for name, child in schema["properties"].items()}
        if not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema.setdefault("additionalProperties", False)
    if isinstance(schema.get("additionalProperties"), dict):
        schema["additionalProperties"] = _strict(schema["additionalProperties"])
    if "items" in schema:
        schema["items"] = _strict(schema["items"])
    for combinator in ("allOf", "anyOf", "oneOf"):
        if combinator in schema:
            schema[combinator] = [_strict(child) for child in schema[combinator]]
    if schema.get("nullable"):
        schema.pop("nullable")
        if "type" in schema:
            schema["type"] = [schema["type"], "null"]
    # Kubernetes' CEL rules and formats are the API server's; this check is the structure.
    schema.pop("x-kubernetes-validations", None)
    return schema


def custom_resource_problems(obj: dict[str, Any]) -> list[str]:
    """Every place `obj` breaks its CRD's schema; KeyError for a kind with no schema in tests/data/crds."""
    schema = _schemas()[(obj["apiVersion"], obj["kind"])]
    # metadata is the API server's ObjectMeta, not in the CRD's schema; kubernetes-validate checks it elsewhere.
    body = {key: value for key, value in obj.items() if key != "metadata"}
    validator = jsonschema.Draft7Validator({**schema, "properties": {**schema["properties"], "metadata": {}}})
    return sorted(f"{'.'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}" for error in validator.iter_errors(body))


def known_kinds() -> set[tuple[str, str]]:
    return set(_schemas())
