"""The GKE node pools: a CPU pool sized to the serving replicas, and a tainted GPU pool that scales to zero."""

from __future__ import annotations

import math
import re

import pulumi
import pulumi_gcp as gcp

from components.gke.args import GkeClusterArgs
from components.gke.node_identity import NODE_SCOPES

CPU_MACHINE_TYPES = {"e2-standard-2": 1930, "e2-standard-4": 3920, "e2-standard-8": 7910, "e2-standard-16": 15890}
"""E2 sizes for the serving pool, smallest first, with the CPU (millicores) GKE leaves for pods
after its kubelet/system reservation (6% of the first core, 1% of the second, 0.5% of the
next two, 0.25% above four)."""
SYSTEM_DAEMONS_MILLICORES = 400
"""The per-node DaemonSets of a Dataplane V2 cluster (anetd, fluentbit, metrics agent, CSI)."""

GPU_TAINT_KEY = "nvidia.com/gpu"


def cpu_machine_for(pod_millicores: int) -> str:
    """The smallest E2 size with room for one serving pod beside the node's own daemons."""
    for machine, allocatable in CPU_MACHINE_TYPES.items():
        if allocatable - SYSTEM_DAEMONS_MILLICORES >= pod_millicores:
            return machine
    largest, allocatable = list(CPU_MACHINE_TYPES.items())[-1]
    raise ValueError(
        f"a serving pod of {pod_millicores}m CPU does not fit even a {largest} node "
        f"({allocatable - SYSTEM_DAEMONS_MILLICORES}m free)"
    )


def cpu_pool_bounds(*, min_replicas: int, max_replicas: int, pod_millicores: int) -> tuple[int, int]:
    """(min, max) CPU nodes of `cpu_machine_for` the pod: the fewest that hold the replicas.

    The maximum has room for one more pod than `max_replicas`: the surge pod of a rolling
    update at full scale, which would otherwise wait for a node that never comes.
    """
    free = CPU_MACHINE_TYPES[cpu_machine_for(pod_millicores)] - SYSTEM_DAEMONS_MILLICORES
    per_node = free // pod_millicores
    return math.ceil(min_replicas / per_node), math.ceil((max_replicas + 1) / per_node)


_BUNDLED_GPUS = re.compile(r"^a[23]-[a-z]+-(?P<count>\d+)g$")
_G2_GPUS = {"24": 2, "48": 4, "96": 8}


def gpus_per_node(machine_type: str) -> int:
    """GPUs an accelerator-optimized machine type comes with (A2/A3 `-<n>g`, G2 by size); else 1."""
    if match := _BUNDLED_GPUS.match(machine_type):
        return int(match["count"])
    if machine_type.startswith("g2-standard-"):
        return _G2_GPUS.get(machine_type.removeprefix("g2-standard-"), 1)
    return 1


def serving_pool(
    name: str, args: GkeClusterArgs, *, cluster: gcp.container.Cluster, node_account: gcp.serviceaccount.Account, parent: pulumi.Resource
) -> gcp.container.NodePool:
    """The CPU pool: serving and the cluster's system pods, never on spot capacity."""
    cpu_min, cpu_max = serving_pool_bounds(args)
    return _node_pool(
        f"{name}-cpu",
        args,
        cluster=cluster,
        # Per zone; autoscaling owns the count afterwards.
        initial_node_count=math.ceil(cpu_min / len(args.zones)),
        nodes=(cpu_min, cpu_max),
        location_policy="BALANCED",
        node_config=_node_config(
            args, node_account, serving_machine(args), disk_gb=50, spot=False, gpu=False
        ),
        parent=parent,
    )


def serving_machine(args: GkeClusterArgs) -> str:
    """The CPU pool's machine: the smallest that holds the largest serving pod (a 1-core one with none)."""
    return cpu_machine_for(max((pods.millicores for pods in args.serving), default=1000))


def serving_pool_bounds(args: GkeClusterArgs) -> tuple[int, int]:
    """(min, max) nodes of the CPU pool: each served project's own count on that machine, summed.

    Counting each project's pods on nodes of their own over-counts a little when small pods
    could share a node; it never under-counts. With no served project, one node for the system pods.
    """
    free = CPU_MACHINE_TYPES[serving_machine(args)] - SYSTEM_DAEMONS_MILLICORES
    bounds = [
        (math.ceil(pods.min_replicas / per_node), math.ceil((pods.max_replicas + 1) / per_node))
        for pods in args.serving
        for per_node in [free // pods.millicores]
    ]
    if not bounds:
        return 1, 1
    return sum(low for low, _ in bounds), sum(high for _, high in bounds)


def gpu_pool(
    name: str, args: GkeClusterArgs, *, cluster: gcp.container.Cluster, node_account: gcp.serviceaccount.Account, parent: pulumi.Resource
) -> gcp.container.NodePool:
    """The GPU pool: training runs, between `compute.minNodes` and `compute.maxNodes`."""
    return _node_pool(
        f"{name}-gpu",
        args,
        cluster=cluster,
        initial_node_count=0,
        nodes=(args.compute.min_nodes, args.compute.max_nodes),
        # Any zone with capacity: GPUs (spot ones especially) are often short in one.
        location_policy="ANY",
        node_config=_node_config(args, node_account, args.compute.machine_type, disk_gb=100, spot=args.spot, gpu=True),
        parent=parent,
    )


def _node_pool(
    name: str,
    args: GkeClusterArgs,
    *,
    cluster: gcp.container.Cluster,
    initial_node_count: int,
    nodes: tuple[int, int],
    location_policy: str,
    node_config: gcp.container.NodePoolNodeConfigArgs,
    parent: pulumi.Resource,
) -> gcp.container.NodePool:
    # No `name` on the pools: Pulumi auto-names them (`gke-cpu-<random>`), so a change that needs a
    # new pool (spot, accelerator, service account, scopes, metadata, shielded config) creates the
    # new pool first and only then drains and deletes the old one. A fixed name would have to
    # delete first: on the CPU pool, a serving outage. Not `name_prefix`: Pulumi fills in `name`
    # anyway, and the provider refuses both (expandNodePool, resource_container_node_pool.go).
    return gcp.container.NodePool(
        name,
        project=args.project,
        cluster=cluster.id,
        location=args.location,
        node_locations=list(args.zones),
        initial_node_count=initial_node_count,
        autoscaling=gcp.container.NodePoolAutoscalingArgs(
            # Totals across the zones (min/max_node_count would be per zone).
            total_min_node_count=nodes[0],
            total_max_node_count=nodes[1],
            location_policy=location_policy,
        ),
        management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
        node_config=node_config,
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["initialNodeCount"]),
    )


def _node_config(
    args: GkeClusterArgs, node_account: gcp.serviceaccount.Account, machine_type: str, *, disk_gb: int, spot: bool, gpu: bool
) -> gcp.container.NodePoolNodeConfigArgs:
    return gcp.container.NodePoolNodeConfigArgs(
        machine_type=machine_type,
        service_account=node_account.email,
        oauth_scopes=NODE_SCOPES,
        disk_type="pd-balanced",
        disk_size_gb=disk_gb,
        spot=spot,
        shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
            enable_secure_boot=True, enable_integrity_monitoring=True
        ),
        # Pods see the GKE metadata server, never the node's own credentials.
        workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
        metadata={"disable-legacy-endpoints": "true"},
        resource_labels=dict(args.labels),
        guest_accelerators=_gpus(args, machine_type) if gpu else None,
        taints=[gcp.container.NodePoolNodeConfigTaintArgs(key=GPU_TAINT_KEY, value="present", effect="NO_SCHEDULE")]
        if gpu
        else None,
    )


def _gpus(args: GkeClusterArgs, machine_type: str) -> list[gcp.container.NodePoolNodeConfigGuestAcceleratorArgs]:
    """The machine's GPUs, with the NVIDIA driver GKE installs itself."""
    return [
        gcp.container.NodePoolNodeConfigGuestAcceleratorArgs(
            type=args.compute.gpu_type,
            count=gpus_per_node(machine_type),
            gpu_driver_installation_config=gcp.container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(
                gpu_driver_version="DEFAULT"
            ),
        )
    ]
