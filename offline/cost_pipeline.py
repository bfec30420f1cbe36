"""What the pipeline (Airflow) adds to a stack's idle cost, apart from the projects and the shared rest.

Its resources are those of the `mlops:pipeline:*` components (the chart's release, its secrets and
namespace, its database). Its pods are the chart's, which the mock engine never sees: on the GKE
cluster they hold CPU-pool nodes, as many as the program sizes the pool for them
(components/clusters.py counts Airflow's always-on pods as one of their summed CPU), read here
from the release's values. On EKS Auto Mode the node they keep is in the release's own price
(offline/managed_prices.py, release_nodes). On a cluster you bring (dev) they, and the bundled
Postgres's volume, are that cluster's bill, not the stack's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.config.projects import cpu_millicores
from components.gke.node_pools import CPU_MACHINE_TYPES, SYSTEM_DAEMONS_MILLICORES
from components.pipeline.chart import ALWAYS_ON
from offline.cost_by_project import ServingNodes, nat_per_node, serving_pool
from offline.engine import Registration
from offline.prices import ResourceCost, pool_min_nodes
from offline.values import reveal

PIPELINE_COMPONENT = "mlops:pipeline:"
RELEASE = "kubernetes:helm.sh/v3:Release"


@dataclass(frozen=True)
class PipelineCost:
    resources: list[ResourceCost]
    """Everything of the pipeline's components, priced."""
    nodes: ServingNodes | None
    """The CPU-pool nodes its always-on pods hold; None on a cluster the stack does not bill."""
    millicores: int
    """What its always-on pods request together."""

    @property
    def idle_monthly(self) -> float:
        own = sum(r.monthly or 0.0 for r in self.resources)
        return round(own + (self.nodes.monthly if self.nodes else 0.0), 2)


def of_pipeline(resource: Registration) -> bool:
    """A resource of a pipeline component (its URN's type chain names one)."""
    return PIPELINE_COMPONENT in resource.urn.split("::")[2]


def always_on_millicores(values: dict[str, Any]) -> int:
    """The CPU the release's always-on components request, their log groomer sidecars included."""
    total = 0
    for name in ALWAYS_ON:
        section = values.get(name) or {}
        total += cpu_millicores(section["resources"]["requests"]["cpu"])
        groomer = section.get("logGroomerSidecar") or {}
        if groomer.get("enabled", True) and groomer.get("resources"):
            total += cpu_millicores(groomer["resources"]["requests"]["cpu"])
    return total


def pipeline_cost(resources: Sequence[Registration], priced: Sequence[ResourceCost]) -> PipelineCost | None:
    """The pipeline's share; None where the stack has no pipeline (`pipeline.kind: none`)."""
    own = [r for r in resources if of_pipeline(r)]
    releases = [r for r in own if r.type == RELEASE]
    if not releases:
        return None
    millicores = always_on_millicores(reveal(releases[0].inputs)["values"])
    urns = {r.urn for r in own}
    costs = [cost for cost in priced if cost.urn in urns]
    return PipelineCost(costs, _nodes(resources, priced, millicores), millicores)


def _nodes(resources: Sequence[Registration], priced: Sequence[ResourceCost], millicores: int) -> ServingNodes | None:
    pool = serving_pool(resources)
    if pool is None:
        return None
    machine = str(reveal(pool.inputs)["nodeConfig"]["machineType"])
    count = math.ceil(1 / ((CPU_MACHINE_TYPES[machine] - SYSTEM_DAEMONS_MILLICORES) // millicores))
    pool_monthly = next(cost.monthly for cost in priced if cost.urn == pool.urn) or 0.0
    pool_nodes = pool_min_nodes(reveal(pool.inputs))
    node_monthly = pool_monthly / pool_nodes if pool_nodes else 0.0
    return ServingNodes(count, machine, count * (node_monthly + nat_per_node(resources)))
