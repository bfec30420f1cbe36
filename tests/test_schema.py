"""The stack files' JSON Schema: generated from the config model, and true to it."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from offline.engine import STACKS_DIR
from offline.schema import SCHEMA_PATH, render

STACKS = ["dev", "prod"]


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def stack_file(stack: str) -> dict[str, Any]:
    return yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())


def errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema())
    return [error.message for error in validator.iter_errors(document)]


def test_checked_in_schema_matches_the_config_model() -> None:
    assert SCHEMA_PATH.read_text() == render(), "run `make schema` and commit the result"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_file_points_editors_at_the_schema(stack: str) -> None:
    first_line = (STACKS_DIR / f"Pulumi.{stack}.yaml").read_text().splitlines()[0]
    assert first_line == f"# yaml-language-server: $schema=./{SCHEMA_PATH.name}"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_file_is_valid_against_the_schema(stack: str) -> None:
    assert errors(stack_file(stack)) == []


def test_schema_flags_a_mistyped_key() -> None:
    document = stack_file("dev")
    document["config"]["mlops:serving"]["minReplica"] = 2
    assert any("'minReplica' was unexpected" in message for message in errors(document))


def test_schema_flags_an_unknown_mlops_key_but_allows_other_namespaces() -> None:
    document = stack_file("dev")
    document["config"]["mlops:trainig"] = {"gpus": 1}
    document["config"]["kubernetes:context"] = "kind-mlops"
    messages = errors(document)
    assert len(messages) == 1 and "mlops:trainig" in messages[0]


def test_schema_flags_a_quoted_number() -> None:
    document = stack_file("dev")
    document["config"]["mlops:registry"]["keepImages"] = "10"
    assert any("'10' is not of type 'integer'" in message for message in errors(document))


def test_schema_flags_a_value_out_of_range_and_an_unknown_region() -> None:
    document = stack_file("dev")
    document["config"]["mlops:serving"]["targetCpuUtilization"] = 150
    document["config"]["aws:region"] = "us-east1"
    messages = errors(document)
    assert any("150 is greater than the maximum of 100" in message for message in messages)
    assert any("'us-east1' is not one of" in message for message in messages)


def test_schema_describes_each_setting() -> None:
    sections = {k: v for k, v in schema()["properties"]["config"]["properties"].items() if "properties" in v}
    assert sections
    for section, section_schema in sections.items():
        for key, setting in section_schema["properties"].items():
            assert setting.get("description"), f"{section}.{key} has no description"
