"""Each group's `RuleCases` subclass runs the table tests on its own tables."""

from __future__ import annotations

import pytest

from tests.policy.support import RuleCases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.cls is not None and issubclass(metafunc.cls, RuleCases):
        metafunc.cls.parametrize(metafunc)
