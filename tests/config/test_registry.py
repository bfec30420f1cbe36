"""The registry section on its own: the two kinds, and the images each repository keeps."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components.config import RegistryConfig


@pytest.mark.parametrize("kind", ["ecr", "artifact-registry"])
def test_each_registry_kind_is_accepted(kind: str) -> None:
    assert RegistryConfig.model_validate({"kind": kind}).kind == kind


def test_another_registry_is_refused() -> None:
    with pytest.raises(ValidationError, match="Input should be 'ecr' or 'artifact-registry'"):
        RegistryConfig.model_validate({"kind": "quay"})
