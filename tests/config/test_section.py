"""What every section shares: keys by their stack-file or Python name, unknown keys and loose types refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components.config import RegistryConfig
from tests.config.support import iris, parse


def test_a_key_may_be_written_by_its_python_name() -> None:
    # populate_by_name: the model is built by field name as well as by the stack file's camelCase.
    serve = parse(**iris(serve={"min_replicas": 2, "maxReplicas": 3})).projects["iris"].serve
    assert serve is not None and serve.min_replicas == 2


def test_a_section_refuses_an_unknown_key_and_a_quoted_number() -> None:
    # extra="forbid" and strict=True on the base: every section, not one by one.
    with pytest.raises(ValidationError) as refused:
        RegistryConfig.model_validate({"kindd": "ecr", "keepImages": "10"})
    assert sorted((error["loc"], error["type"]) for error in refused.value.errors()) == [
        (("keepImages",), "int_type"),
        (("kindd",), "extra_forbidden"),
    ]
