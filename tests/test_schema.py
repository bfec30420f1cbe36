"""The stack files' JSON Schema: generated from the config model, and true to it."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import jsonschema
import pytest
import yaml

from components.config import _SECTION_MODELS, SCALAR_KEYS, ServeConfig, TrainConfig
from offline.engine import STACKS_DIR
from offline.schema import SCHEMA_PATH, render

STACKS = ["dev", "prod", "prod-aws"]


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def stack_file(stack: str) -> dict[str, Any]:
    return yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())


def errors(document: dict[str, Any]) -> list[str]:
    """Every error's message, with those under an anyOf (a project's optional train and serve)."""
    validator = jsonschema.Draft202012Validator(schema())
    return [message for error in validator.iter_errors(document) for message in _messages(error)]


def _messages(error: jsonschema.ValidationError) -> list[str]:
    return [error.message, *(message for cause in error.context or [] for message in _messages(cause))]


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
    document["config"]["mlops:projects"]["iris"]["serve"]["targetCpuUtilization"] = 150
    document["config"]["aws:region"] = "us-east1"
    messages = errors(document)
    assert any("150 is greater than the maximum of 100" in message for message in messages)
    assert any("'us-east1' is not one of" in message for message in messages)


def test_schema_describes_each_project_setting() -> None:
    # A project's settings are in the models its map refers to (train, serve, serve.alerts),
    # and monitoring's in its parts' (notify, alerts, budget).
    definitions = schema()["$defs"]
    assert set(definitions) == {
        "ProjectConfig", "TrainConfig", "ServeConfig", "AlertOverrides", "NotifyConfig", "AlertThresholds", "BudgetConfig", "DatabaseConfig"
    }
    for model, model_schema in definitions.items():
        for key, setting in model_schema["properties"].items():
            assert setting.get("description"), f"{model}.{key} has no description"


def test_schema_describes_each_setting() -> None:
    sections = {k: v for k, v in schema()["properties"]["config"]["properties"].items() if "properties" in v}
    assert sections
    for section, section_schema in sections.items():
        for key, setting in section_schema["properties"].items():
            assert setting.get("description"), f"{section}.{key} has no description"


def documented_keys() -> set[str]:
    """Keys the README's Configuration table names in its first column.

    A row may name several keys of one section: `compute.machineType`, `gpuType`; the ones
    without a section take the section of the first.
    """
    readme = (STACKS_DIR.parent / "README.md").read_text()
    table = readme[readme.index("## Configuration") : readme.index("## dev and prod")]
    keys: set[str] = set()
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        names = re.findall(r"`([^`]+)`", line.split("|")[1])
        section = names[0].rsplit(".", 1)[0] if "." in names[0] else ""
        keys |= {name if "." in name or ":" in name or not section else f"{section}.{name}" for name in names}
    return keys


def model_keys() -> set[str]:
    keys = {f"mlops:{key}" for key in SCALAR_KEYS} | {"aws:region", "kubernetes:context"}
    for section, model in _SECTION_MODELS.items():
        keys |= {f"{section}.{field.alias or name}" for name, field in model.model_fields.items()}
    for part, model in (("train", TrainConfig), ("serve", ServeConfig)):
        keys |= {f"projects.<name>.{part}.{field.alias or name}" for name, field in model.model_fields.items()}
    return keys | {"projects.<name>.train", "projects.<name>.serve"}


def test_readme_configuration_table_documents_every_key() -> None:
    assert model_keys() - documented_keys() == set()


@pytest.mark.parametrize("stack", STACKS)
def test_stack_file_shows_every_key_set_or_commented(stack: str) -> None:
    text = (STACKS_DIR / f"Pulumi.{stack}.yaml").read_text()
    missing = [key for key in model_keys() if key.startswith("mlops:") and key not in text]
    for section, model in _SECTION_MODELS.items():
        after = text[text.index(f"mlops:{section}:") :].splitlines()[1:]
        # The section's own lines, set or commented out: indented deeper than the top-level keys.
        uncommented = (line.replace("#", " ", 1) if line.lstrip().startswith("#") else line for line in after)
        block = "\n".join(itertools.takewhile(lambda line: line.startswith("    "), uncommented))
        missing += [
            f"{section}.{field.alias or name}"
            for name, field in model.model_fields.items()
            if not re.search(rf"^\s*#?\s*{field.alias or name}:", block, re.M)
        ]
    assert missing == []


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_project_shows_every_project_key_set_or_commented(stack: str) -> None:
    text = (STACKS_DIR / f"Pulumi.{stack}.yaml").read_text()
    block = text[text.index("    iris:\n") :]
    for part, model in (("train", TrainConfig), ("serve", ServeConfig)):
        lines = block[block.index(f"      {part}:") :].splitlines()[1:]
        own = "\n".join(itertools.takewhile(lambda line: line.startswith("        "), lines))
        assert [
            field.alias for field in model.model_fields.values() if not re.search(rf"^\s*#?\s*{field.alias}:", own, re.M)
        ] == [], part
