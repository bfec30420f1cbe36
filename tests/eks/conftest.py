"""The prod-aws variants the EKS tests compare with the stack file, each run once for the package."""

from __future__ import annotations

import pytest

from offline.engine import Recording, run_program, stack_config_with


@pytest.fixture(scope="package")
def prod_aws_public() -> Recording:
    """prod-aws with `eks.publicEndpoint: true`: serving behind an internet-facing NLB."""
    return run_program("prod-aws", stack_config_with("prod-aws", {"mlops:eks": {"publicEndpoint": True}}))
