"""What a new user reads for the usual mistakes: one line each, with the fix in it."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, StackConfig

VOLTA = "p3 and p3dn (Volta) are not supported by that AMI's open GPU kernel modules"
FAMILIES = "use a size of the families g4dn, g5, g6, g6e, gr6, p4d, p4de, p5, p5e, p5en (for example g5.xlarge)"


def problems(**sections: Any) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        StackConfig.parse({"environment": "dev", **sections}, project="mlops", stack="dev", aws_region="us-east-1")
    return refused.value.problems


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [("g5.xlarg", "g5.xlarge"), ("g4dn.xlrage", "g4dn.xlarge"), ("g6.2xlarge ", "g6.2xlarge")],
)
def test_a_mistyped_instance_type_gets_a_did_you_mean(typed: str, suggested: str) -> None:
    assert problems(compute={"instanceType": typed}) == [
        f'mlops:compute.instanceType: "{typed}" is invalid: \'{typed}\' is not an NVIDIA GPU instance type '
        f"that the ECS AL2023 NVIDIA AMI supports (did you mean {suggested}?); {FAMILIES}. {VOLTA}"
    ]


def test_a_volta_type_gets_no_suggestion_of_another_family() -> None:
    # p3's nearest names are p4d/p5 sizes: a different machine, not the fix for a typo.
    assert problems(compute={"instanceType": "p3.2xlarge"}) == [
        'mlops:compute.instanceType: "p3.2xlarge" is invalid: \'p3.2xlarge\' is not an NVIDIA GPU instance type '
        f"that the ECS AL2023 NVIDIA AMI supports; {FAMILIES}. {VOLTA}"
    ]


@pytest.mark.parametrize("cores", [0.5, 1.5])
def test_fractional_serving_cpu_says_whole_cores_and_why(cores: float) -> None:
    assert problems(serving={"cpu": cores}) == [
        f"mlops:serving.cpu: {cores} is invalid: must be a whole number of cores (1, 2, ...), not {cores}: "
        "the server runs one worker process per core (WEB_CONCURRENCY = cpu), and the pod's CPU request "
        "and limit are that many cores"
    ]
