"""Fixtures: the real program run once per stack file under the mock engine; S3 on loopback."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from offline.engine import ROOT, Recording, run_program, run_stack, stack_config_with
from tests.loopback import Moto, moto_on_loopback
from tests.support import CPU_TRAINING, GPU_SERVING, PROD_ON_AWS, SCHEDULED, RunWith


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
def dev_scheduled() -> Recording:
    """dev with `pipeline.kind: none`: an EventBridge schedule submits each project's Batch job."""
    return run_program("dev", stack_config_with("dev", SCHEDULED))


@pytest.fixture(scope="session")
def prod_on_aws_scheduled() -> Recording:
    """prod on AWS with `pipeline.kind: none`."""
    return run_program("prod", stack_config_with("prod", {**PROD_ON_AWS, **SCHEDULED}))


@pytest.fixture(scope="session")
def prod_public() -> Recording:
    """prod with `gke.publicEndpoint: true`: serving behind a public load balancer."""
    return run_program("prod", stack_config_with("prod", {"mlops:gke": {"publicEndpoint": True}}))


@pytest.fixture(scope="session")
def prod_aws() -> Recording:
    """The prod-aws stack file: EKS serving, Batch training, all on AWS."""
    return run_stack("prod-aws")


@pytest.fixture(scope="session")
def prod_aws_gpu() -> Recording:
    """prod-aws with iris served on a GPU: the tainted GPU NodePool, and the server's GPU pods."""
    return run_program("prod-aws", stack_config_with("prod-aws", GPU_SERVING))


@pytest.fixture
def run_with() -> RunWith:
    """Run the program with a stack file's config, some settings changed (see stack_config_with)."""

    def run(stack: str, **changes: Any) -> Recording:
        return run_program(stack, stack_config_with(stack, changes))

    return run


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    """S3 (and the other AWS APIs the images use) on loopback, one server for the whole run."""
    with moto_on_loopback() as server:
        yield server


@pytest.fixture
def bucket(moto: Moto, request: pytest.FixtureRequest) -> str:
    """A fresh bucket per test, versioned as the platform's data bucket is. Its name starts with a
    digest of the test's file, so that tests of the same name in two files share no bucket."""
    module = hashlib.sha256(request.node.path.as_posix().encode()).hexdigest()[:6]
    return moto.versioned_bucket(f"t{module}-", request.node.name)
