"""Fixtures: the real program run once per stack file under the mock engine."""

from __future__ import annotations

from typing import Any

import pytest

from offline.engine import Recording, run_program, run_stack, stack_config_with
from tests.support import CPU_TRAINING, PROD_ON_AWS, RunWith


@pytest.fixture(scope="session")
def dev() -> Recording:
    return run_stack("dev")


@pytest.fixture(scope="session")
def prod() -> Recording:
    return run_stack("prod")


@pytest.fixture(scope="session")
def dev_cluster_training() -> Recording:
    """The dev stack with `compute.kind: none`: training runs as a CronJob on the serving cluster."""
    return run_program("dev", stack_config_with("dev", CPU_TRAINING))


@pytest.fixture(scope="session")
def prod_on_aws() -> Recording:
    """prod with its compute and registry on AWS (as before it moved to GKE)."""
    return run_program("prod", stack_config_with("prod", PROD_ON_AWS))


@pytest.fixture(scope="session")
def prod_public() -> Recording:
    """prod with `gke.publicEndpoint: true`: serving behind a public load balancer."""
    return run_program("prod", stack_config_with("prod", {"mlops:gke": {"publicEndpoint": True}}))


@pytest.fixture
def run_with() -> RunWith:
    """Run the program with a stack file's config, some settings changed (see stack_config_with)."""

    def run(stack: str, **changes: Any) -> Recording:
        return run_program(stack, stack_config_with(stack, changes))

    return run
