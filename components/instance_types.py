"""The GPU instance types training may run on, with what each one offers a job.

AWS Batch boots them from the ECS GPU AMI for Amazon Linux 2023 (`ECS_AL2023_NVIDIA`).
That AMI ships only NVIDIA's open GPU kernel modules (aws/amazon-ecs-ami pull request
370, "from the 560 driver onwards"), which drive Turing and newer GPUs: T4 (g4dn),
A10G (g5), L4 (g6, gr6), L40S (g6e), A100 (p4d, p4de), H100/H200 (p5, p5e, p5en). The
V100 of p3 and p3dn is Volta, which the open modules do not support, so those are left
out; g4ad (AMD) and g5g (Arm) never had an NVIDIA x86_64 driver.

The figures are the EC2 instance-type specifications (vCPUs, memory in GiB, GPUs). They
size the job's resource requirements, so a job never asks for more than the smallest
allowed type can give (a job that fits nowhere stays RUNNABLE for ever).
"""

from __future__ import annotations

from typing import NamedTuple


class InstanceSize(NamedTuple):
    vcpus: int
    memory_gib: int
    gpus: int


def _family(name: str, sizes: dict[str, tuple[int, int, int]]) -> dict[str, InstanceSize]:
    return {f"{name}.{size}": InstanceSize(*spec) for size, spec in sizes.items()}


# The common single-socket ladder of the g families: (vCPUs, GiB, GPUs).
_G_LADDER = {
    "xlarge": (4, 16, 1),
    "2xlarge": (8, 32, 1),
    "4xlarge": (16, 64, 1),
    "8xlarge": (32, 128, 1),
    "12xlarge": (48, 192, 4),
    "16xlarge": (64, 256, 1),
}
# g5, g6 and g6e add two multi-GPU sizes on top.
_G_LADDER_TO_48 = {**_G_LADDER, "24xlarge": (96, 384, 4), "48xlarge": (192, 768, 8)}


def _twice_the_memory(sizes: dict[str, tuple[int, int, int]]) -> dict[str, tuple[int, int, int]]:
    return {size: (vcpus, 2 * memory, gpus) for size, (vcpus, memory, gpus) in sizes.items()}


GPU_INSTANCE_TYPES: dict[str, InstanceSize] = {
    **_family("g4dn", _G_LADDER),
    **_family("g5", _G_LADDER_TO_48),
    **_family("g6", _G_LADDER_TO_48),
    # g6e (L40S) is the same ladder with twice the memory at every size.
    **_family("g6e", _twice_the_memory(_G_LADDER_TO_48)),
    **_family("gr6", {"4xlarge": (16, 128, 1), "8xlarge": (32, 256, 1)}),
    **_family("p4d", {"24xlarge": (96, 1152, 8)}),
    **_family("p4de", {"24xlarge": (96, 1152, 8)}),
    **_family("p5", {"4xlarge": (16, 256, 1), "48xlarge": (192, 2048, 8)}),
    **_family("p5e", {"48xlarge": (192, 2048, 8)}),
    **_family("p5en", {"48xlarge": (192, 2048, 8)}),
}

GPU_INSTANCE_FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(name.split(".")[0] for name in GPU_INSTANCE_TYPES))
