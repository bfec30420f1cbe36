"""What EKS Auto Mode's nodes bill while idle: the nodes a workload's pods keep at its minimum.

Auto Mode has no node pool resource to price: its Karpenter starts nodes for pending pods. So a
Deployment on an Auto Mode stack is priced at the nodes its minimum replicas need, each the
cheapest type of the price table they fit (offline/data/prices.json `eks`, which says what is
assumed): the EC2 on-demand price, Auto Mode's management fee and the node's root volume.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.config import cpu_millicores
from components.namespace import memory_bytes
from components.pods import GPU_RESOURCE
from offline.engine import Registration
from offline.tables import data_table
from offline.values import reveal

MEBIBYTE = 2**20
VM_OVERHEAD = 0.075
"""The share of a node's memory Karpenter leaves to the hypervisor."""
EVICTION_MIB = 100
HOSTNAME = "kubernetes.io/hostname"


def reserved_millicores(vcpus: int) -> int:
    """The EKS AMIs' kube-reserved CPU: 6% of the first core, 1% of the second, 0.5% of the next two, 0.25% above."""
    shares = (60, 10, 5, 5)
    return int(sum(shares[:vcpus]) + 2.5 * max(0, vcpus - 4))


@dataclass(frozen=True)
class NodeType:
    name: str
    vcpu: int
    memory_gib: int
    max_pods: int
    gpus: int
    on_demand: float
    management_fee: float

    @property
    def hourly(self) -> float:
        return self.on_demand + self.management_fee

    @property
    def millicores(self) -> int:
        """What pods may request of its CPU."""
        return self.vcpu * 1000 - reserved_millicores(self.vcpu)

    @property
    def mebibytes(self) -> int:
        """What pods may request of its memory."""
        total = self.memory_gib * 1024
        return int(total * (1 - VM_OVERHEAD)) - (11 * self.max_pods + 255) - EVICTION_MIB


@dataclass(frozen=True)
class PodShape:
    millicores: int
    mebibytes: int
    gpus: int


@dataclass(frozen=True)
class Nodes:
    type: NodeType
    count: int

    def monthly(self) -> float:
        table = data_table("prices")
        eks = table["eks"]
        disk = eks["ephemeral_storage_gb"] * eks["gp3_per_gb_month"]
        return self.count * (self.type.hourly * table["hours_per_month"] + disk)


def node_types() -> list[NodeType]:
    return [NodeType(name, **entry) for name, entry in data_table("prices")["eks"]["node_types"].items()]


def pod_shape(pod_spec: Mapping[str, Any]) -> PodShape:
    """What one pod asks for: its containers' requests (a limit stands for a missing request)."""
    millicores = mebibytes = gpus = 0
    for container in pod_spec.get("containers") or []:
        resources = container.get("resources") or {}
        wanted = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        millicores += cpu_millicores(str(wanted.get("cpu", "0")))
        mebibytes += math.ceil(memory_bytes(str(wanted.get("memory", "0Mi"))) / MEBIBYTE)
        gpus += int((resources.get("limits") or {}).get(GPU_RESOURCE, 0))
    return PodShape(millicores, mebibytes, gpus)


def pods_per_node(node: NodeType, pod: PodShape) -> int:
    if (pod.gpus and node.gpus < pod.gpus) or (not pod.gpus and node.gpus):
        return 0  # GPU pods go to GPU nodes only; the general-purpose pool has none
    fits = [node.millicores // max(pod.millicores, 1), node.mebibytes // max(pod.mebibytes, 1)]
    if pod.gpus:
        fits.append(node.gpus // pod.gpus)
    return min(fits)


def cheapest_nodes(pod: PodShape, replicas: int, *, one_per_node: bool, types: Sequence[NodeType] | None = None) -> Nodes | None:
    """The fewest, cheapest nodes that hold `replicas` pods; None when no known type fits one."""
    options = []
    for node in types if types is not None else node_types():
        per_node = min(pods_per_node(node, pod), 1) if one_per_node else pods_per_node(node, pod)
        if per_node:
            options.append(Nodes(node, math.ceil(replicas / per_node)))
    return min(options, key=lambda nodes: (nodes.count * nodes.type.hourly, nodes.count), default=None)


def spread_one_per_node(pod_spec: Mapping[str, Any]) -> bool:
    """The pods must land on different nodes (a hostname spread the scheduler may not break)."""
    return any(
        c.get("topologyKey") == HOSTNAME and c.get("whenUnsatisfiable") == "DoNotSchedule" and c.get("maxSkew") == 1
        for c in pod_spec.get("topologySpreadConstraints") or []
    )


def runs_auto_mode(resources: Sequence[Registration]) -> bool:
    """The stack has an EKS cluster whose nodes Auto Mode starts."""
    return any(
        r.type == "aws:eks/cluster:Cluster" and ((reveal(r.inputs).get("computeConfig") or {}).get("enabled") is True)
        for r in resources
    )


def minimum_replicas(resources: Sequence[Registration]) -> dict[tuple[str, str], int]:
    """(namespace, Deployment name) -> the HorizontalPodAutoscaler's minReplicas, where one scales it."""
    found = {}
    for resource in resources:
        if resource.type == "kubernetes:autoscaling/v2:HorizontalPodAutoscaler":
            inputs = reveal(resource.inputs)
            target = inputs["spec"]["scaleTargetRef"]
            if target.get("kind") == "Deployment":
                found[(inputs["metadata"].get("namespace", ""), target["name"])] = int(inputs["spec"].get("minReplicas", 1))
    return found
