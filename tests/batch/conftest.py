"""Recordings the Batch tests share beyond the suite's own (tests/conftest.py)."""

from __future__ import annotations

import pytest

from offline.engine import Recording, run_program, stack_config_with


@pytest.fixture(scope="module")
def long_run() -> Recording:
    """dev with a 12-hour training timeout: past what an infrastructure update may wait."""
    return run_program("dev", stack_config_with("dev", {"mlops:projects": {"iris": {"train": {"timeoutMinutes": 720}}}}))
