"""Fixtures: the real program run once per stack file under the mock engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from offline.engine import Recording, run_program, run_stack, stack_config


@pytest.fixture(scope="session")
def dev() -> Recording:
    return run_stack("dev")


@pytest.fixture(scope="session")
def prod() -> Recording:
    return run_stack("prod")


RunWith = Callable[..., Recording]


@pytest.fixture
def run_with() -> RunWith:
    """Run the program with a stack file's config, some settings changed.

    `run_with("prod", **{"mlops:serving": {"minReplicas": 1}})` changes one field of an
    object key and keeps the others; a value of None removes that field or key.
    """

    def run(stack: str, **changes: Any) -> Recording:
        return run_program(stack, changed_config(stack, changes))

    return run


def changed_config(stack: str, changes: dict[str, Any]) -> dict[str, str]:
    config = stack_config(stack)
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        elif isinstance(value, dict):
            merged = {**json.loads(config.get(key, "{}")), **value}
            config[key] = json.dumps({k: v for k, v in merged.items() if v is not None})
        else:
            config[key] = str(value)
    return config
