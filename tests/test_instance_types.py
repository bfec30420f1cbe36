"""The GPU instance types training may run on: exactly the published EC2 figures, nothing else.

A figure above the real one sizes the job past what the instance offers, and the job stays
RUNNABLE until the queue cancels it; a figure below wastes the GPU instance's memory or
vCPUs; a missing or extra type changes what the config accepts.
"""

from __future__ import annotations

import pytest

from components.instance_types import GPU_INSTANCE_FAMILIES, GPU_INSTANCE_TYPES, InstanceSize

# From the EC2 instance-type pages ("Accelerated computing"): name, vCPUs, memory GiB, GPUs.
PUBLISHED = """
g4dn.xlarge 4 16 1
g4dn.2xlarge 8 32 1
g4dn.4xlarge 16 64 1
g4dn.8xlarge 32 128 1
g4dn.12xlarge 48 192 4
g4dn.16xlarge 64 256 1
g5.xlarge 4 16 1
g5.2xlarge 8 32 1
g5.4xlarge 16 64 1
g5.8xlarge 32 128 1
g5.12xlarge 48 192 4
g5.16xlarge 64 256 1
g5.24xlarge 96 384 4
g5.48xlarge 192 768 8
g6.xlarge 4 16 1
g6.2xlarge 8 32 1
g6.4xlarge 16 64 1
g6.8xlarge 32 128 1
g6.12xlarge 48 192 4
g6.16xlarge 64 256 1
g6.24xlarge 96 384 4
g6.48xlarge 192 768 8
g6e.xlarge 4 32 1
g6e.2xlarge 8 64 1
g6e.4xlarge 16 128 1
g6e.8xlarge 32 256 1
g6e.12xlarge 48 384 4
g6e.16xlarge 64 512 1
g6e.24xlarge 96 768 4
g6e.48xlarge 192 1536 8
gr6.4xlarge 16 128 1
gr6.8xlarge 32 256 1
p4d.24xlarge 96 1152 8
p4de.24xlarge 96 1152 8
p5.4xlarge 16 256 1
p5.48xlarge 192 2048 8
p5e.48xlarge 192 2048 8
p5en.48xlarge 192 2048 8
"""
EXPECTED = {
    name: InstanceSize(int(vcpus), int(memory), int(gpus))
    for name, vcpus, memory, gpus in (line.split() for line in PUBLISHED.strip().splitlines())
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_type_has_its_published_vcpus_memory_and_gpus(name: str) -> None:
    assert GPU_INSTANCE_TYPES.get(name) == EXPECTED[name]


def test_only_the_types_the_al2023_nvidia_ami_drives_are_allowed() -> None:
    # An extra type (a Volta p3, say) boots without a working driver; a missing one is refused by config.
    assert sorted(GPU_INSTANCE_TYPES) == sorted(EXPECTED)


def test_families_are_listed_in_table_order() -> None:
    # The config error's "use a size of the families ..." names exactly these, in this order.
    assert GPU_INSTANCE_FAMILIES == ("g4dn", "g5", "g6", "g6e", "gr6", "p4d", "p4de", "p5", "p5e", "p5en")


@pytest.mark.parametrize("name", ["p3.2xlarge", "p3dn.24xlarge", "g4ad.xlarge", "g5g.xlarge"])
def test_types_without_an_nvidia_x86_open_driver_are_absent(name: str) -> None:
    assert name not in GPU_INSTANCE_TYPES


def test_g6e_has_twice_the_memory_of_g6_at_every_size() -> None:
    # The table derives g6e from the g6 ladder; the published figures above pin both.
    g6e = {name.removeprefix("g6e."): size for name, size in GPU_INSTANCE_TYPES.items() if name.startswith("g6e.")}
    g6 = {name.removeprefix("g6."): size for name, size in GPU_INSTANCE_TYPES.items() if name.startswith("g6.")}
    assert g6e == {size: InstanceSize(s.vcpus, 2 * s.memory_gib, s.gpus) for size, s in g6.items()}
