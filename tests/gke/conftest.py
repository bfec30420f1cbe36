"""The GKE stack variants the tests compare prod with, each run once for the package."""

from __future__ import annotations

import pytest

from offline.engine import Recording, run_program, stack_config, stack_config_with
from tests.gke.support import DEV_ON_GKE, LONG_STACK, PROD_VARIANT


@pytest.fixture(scope="package")
def dev_on_gke() -> Recording:
    return run_program("dev", stack_config_with("dev", DEV_ON_GKE))


@pytest.fixture(scope="package")
def prod_variant() -> Recording:
    return run_program("prod", stack_config_with("prod", PROD_VARIANT))


@pytest.fixture(scope="package")
def long_stack() -> Recording:
    return run_program(LONG_STACK, stack_config("prod"))
