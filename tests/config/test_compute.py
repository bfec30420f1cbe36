"""The compute section: the EC2 GPU instance types, and the GKE machines with the GPUs they carry."""

from __future__ import annotations

import pytest

from components.config import ConfigError
from tests.config.support import gke_stack, parse, problems

VOLTA = "p3 and p3dn (Volta) are not supported by that AMI's open GPU kernel modules"

FAMILIES = "use a size of the families g4dn, g5, g6, g6e, gr6, p4d, p4de, p5, p5e, p5en (for example g5.xlarge)"


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


def test_instance_type_accepts_one_name() -> None:
    assert parse(compute={"instanceType": "g4dn.xlarge"}).compute.instance_type == ("g4dn.xlarge",)


def test_instance_type_accepts_a_list_in_order() -> None:
    compute = parse(compute={"instanceType": ["g5.xlarge", "g4dn.xlarge", "g6.xlarge"]}).compute
    assert compute.instance_type == ("g5.xlarge", "g4dn.xlarge", "g6.xlarge")


def test_equal_min_and_max_nodes_are_accepted() -> None:
    # A fixed-size pool (min = max) is a valid choice, not a broken rule.
    assert parse(compute={"minNodes": 2, "maxNodes": 2}).compute.min_nodes == 2

# Each GKE machine family and the GPUs it carries (gcloud compute accelerator-types list).
GKE_GPUS = [
    ("g2-standard-4", "nvidia-l4"),
    ("a2-highgpu-1g", "nvidia-tesla-a100"),
    ("a2-megagpu-16g", "nvidia-tesla-a100"),
    ("a2-ultragpu-1g", "nvidia-a100-80gb"),
    ("a3-highgpu-8g", "nvidia-h100-80gb"),
    ("a3-megagpu-8g", "nvidia-h100-mega-80gb"),
    ("n1-standard-8", "nvidia-tesla-t4"),
    ("n1-standard-8", "nvidia-tesla-v100"),
    ("n1-standard-8", "nvidia-tesla-p4"),
    ("n1-standard-8", "nvidia-tesla-p100"),
]


@pytest.mark.parametrize(("machine", "gpu"), GKE_GPUS)
def test_a_gke_machine_with_a_gpu_it_carries_is_accepted(machine: str, gpu: str) -> None:
    # Refused, a valid GPU pool could not be configured at all.
    compute = gke_stack(machineType=machine, gpuType=gpu).compute
    assert (compute.machine_type, compute.gpu_type) == (machine, gpu)


@pytest.mark.parametrize(
    ("machine", "gpu", "carries"),
    [
        ("a2-highgpu-1g", "nvidia-a100-80gb", "nvidia-tesla-a100"),
        ("a2-ultragpu-1g", "nvidia-tesla-a100", "nvidia-a100-80gb"),
        ("a3-highgpu-8g", "nvidia-h100-mega-80gb", "nvidia-h100-80gb"),
        ("g2-standard-4", "nvidia-tesla-t4", "nvidia-l4"),
        ("n1-standard-8", "nvidia-l4", "nvidia-tesla-t4 or nvidia-tesla-v100 or nvidia-tesla-p4 or nvidia-tesla-p100"),
    ],
)
def test_a_gke_gpu_the_machine_does_not_carry_is_refused(machine: str, gpu: str, carries: str) -> None:
    # GKE would create the node pool and never schedule a GPU on it.
    with pytest.raises(ConfigError) as refused:
        gke_stack(machineType=machine, gpuType=gpu)
    assert refused.value.problems == [f'mlops:compute.gpuType: "{gpu}" does not fit machineType {machine}; it carries {carries}']


def test_a_gke_machine_without_a_gpu_is_refused_naming_the_families() -> None:
    with pytest.raises(ConfigError) as refused:
        gke_stack(machineType="e2-standard-4")
    assert refused.value.problems == [
        'mlops:compute.machineType: "e2-standard-4" is not a GPU machine type GKE offers; use one of the families '
        "g2-, a2-highgpu-, a2-megagpu-, a2-ultragpu-, a3-highgpu-, a3-megagpu-, n1-"
    ]
