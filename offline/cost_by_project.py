"""Each ML project's share of a stack's idle cost and its own training run; the rest is shared.

A resource belongs to a project by the `mlops/project` label (Kubernetes objects), the
`ml-project` tag or label (cloud resources; an alert policy's user label), or, for a Scheduler schedule (which takes no
tags), its name: the project's job definition name (components/project_names.py). A served
project on the GKE cluster also holds CPU-pool nodes: as many as the program sizes the pool
for it (components/gke/node_pools.py counts each project's pods on nodes of their own), each
with its disk and its Cloud NAT VM fee. Whatever no project holds (cluster, NAT gateway,
keys, queue, a GPU pool's minimum) is shared.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.batch.component import PIPELINE_SCHEDULES
from components.config.cron import most_runs_in_a_month, scheduler_to_cron
from components.config.projects import cpu_millicores
from components.gke.node_pools import CPU_MACHINE_TYPES, SYSTEM_DAEMONS_MILLICORES
from components.pods import GPU_RESOURCE
from components.project_names import PROJECT_LABEL, PROJECT_TAG, job_definition_name, name_prefix
from offline.engine import PROJECT, Registration
from offline.prices import ResourceCost, price_table, pool_min_nodes
from offline.training_cost import TrainingRun, is_training_cronjob, training_runs
from offline.values import reveal

NODE_POOL = "gcp:container/nodePool:NodePool"
SCHEDULE = "aws:scheduler/schedule:Schedule"
TRAINING_BACKENDS = ("aws:batch/computeEnvironment:ComputeEnvironment", NODE_POOL)


@dataclass(frozen=True)
class ServingNodes:
    """The CPU-pool nodes one project's serving pods hold while idle, and what they bill."""

    count: int
    machine: str
    monthly: float
    """The nodes with their disks, plus their Cloud NAT VM fee."""


@dataclass(frozen=True)
class ProjectCost:
    project: str
    resources: list[ResourceCost]
    """Everything tagged or labelled with the project, priced."""
    nodes: ServingNodes | None
    """None where the project serves on no node pool of the stack's (a kubeconfig cluster), or serves nothing."""
    training: list[TrainingRun]
    runs_per_month: int = 0
    """The most scheduled training runs the project makes in one calendar month (its schedule's)."""

    @property
    def idle_monthly(self) -> float:
        own = sum(r.monthly or 0.0 for r in self.resources)
        return round(own + (self.nodes.monthly if self.nodes else 0.0), 2)

    @property
    def scheduled_monthly(self) -> float | None:
        """What the busiest month's scheduled runs bill at a typical run each; None where a run is unpriced.

        A project trains on one backend; where several are priced, the dearest is counted."""
        typical = [run.typical for run in self.training]
        if None in typical:
            return None
        return self.runs_per_month * max((usd for usd in typical if usd is not None), default=0.0)


@dataclass(frozen=True)
class OneMoreProject:
    """What one more served project, a copy of `like` under another name, adds to the idle total."""

    like: str
    serve: dict[str, Any]
    """The copied project's `serve` settings, as the stack file writes them."""
    monthly: float
    share: ProjectCost
    """The new project's own share in the stack that has it: its nodes and its resources."""


def project_of(resource: Registration, job_definitions: dict[str, str]) -> str | None:
    """The project `resource` belongs to, or None when it is shared.

    `job_definitions` maps each project's job definition name to the project.
    """
    inputs = reveal(resource.inputs)
    metadata = inputs.get("metadata")
    if isinstance(metadata, dict) and (labels := metadata.get("labels")) and PROJECT_LABEL in labels:
        return str(labels[PROJECT_LABEL])
    for key in ("tags", "labels", "userLabels"):
        marks = inputs.get(key)
        if isinstance(marks, dict) and PROJECT_TAG in marks:
            return str(marks[PROJECT_TAG])
    if resource.type == SCHEDULE:
        return job_definitions.get(str(inputs.get("name")))
    return None


def by_project(stack: str, resources: Sequence[Registration]) -> dict[str, list[Registration]]:
    """Each project's own resources, by name; a resource of no project is left out."""
    marked = {r.urn: project_of(r, {}) for r in resources}
    names = sorted({p for p in marked.values() if p})
    job_definitions = {job_definition_name(name_prefix(PROJECT, stack), p): p for p in names}
    grouped: dict[str, list[Registration]] = {p: [] for p in names}
    for resource in resources:
        project = marked[resource.urn] or project_of(resource, job_definitions)
        if project:
            grouped[project].append(resource)
    return grouped


def project_costs(
    stack: str, resources: Sequence[Registration], priced: Sequence[ResourceCost], *, pipeline: Mapping[str, str]
) -> list[ProjectCost]:
    """Every project's share: its own priced resources, its serving nodes and its training run.

    `pipeline` is each project's cron where the pipeline starts its runs (`pipeline_schedules`)."""
    by_urn = {cost.urn: cost for cost in priced}
    backends = [r for r in resources if r.type in TRAINING_BACKENDS]
    return [
        ProjectCost(
            project,
            [by_urn[r.urn] for r in own if r.urn in by_urn],
            serving_nodes(own, resources, by_urn),
            project_training(own, backends),
            scheduled_runs(own) + (most_runs_in_a_month(pipeline[project]) if project in pipeline else 0),
        )
        for project, own in by_project(stack, resources).items()
    ]


def pipeline_schedules(resources: Sequence[Registration]) -> dict[str, str]:
    """Each project's cron where Airflow, not a Scheduler schedule, starts its Batch runs: the Batch
    component records them as its input (a suspended CronJob keeps its own schedule, which
    `scheduled_runs` reads)."""
    found: dict[str, str] = {}
    for resource in resources:
        found |= reveal(resource.inputs).get(PIPELINE_SCHEDULES) or {}
    return found


def shared_parts(
    resources: Sequence[Registration],
    priced: Sequence[ResourceCost],
    projects: Sequence[ProjectCost],
    *,
    pipeline: Collection[str] = (),
    pipeline_nodes: int = 0,
) -> list[tuple[str, float]]:
    """(name, USD a month) of each billed resource, or the part of it, that neither a project nor the
    pipeline holds. `pipeline` is the URNs of the pipeline's resources, `pipeline_nodes` its CPU-pool nodes."""
    owned = {r.urn for project in projects for r in project.resources} | set(pipeline)
    held = sum(project.nodes.count for project in projects if project.nodes) + pipeline_nodes
    pool = serving_pool(resources)
    parts = []
    for cost in priced:
        if not cost.monthly or cost.urn in owned:
            continue
        rest = cost.monthly
        if pool is not None and cost.urn == pool.urn:
            rest -= cost.monthly * held / pool_min_nodes(reveal(pool.inputs))
        elif cost.type == "gcp:compute/routerNat:RouterNat":
            rest -= held * nat_per_node(resources)
        if round(rest, 2):
            parts.append((cost.name, round(rest, 2)))
    return parts


def serving_nodes(
    own: Sequence[Registration], resources: Sequence[Registration], by_urn: dict[str, ResourceCost]
) -> ServingNodes | None:
    """The CPU-pool nodes the program sized for this project's serving minimum, and their monthly bill."""
    pool = serving_pool(resources)
    pods = _serving_pods(own)
    if pool is None or pods is None:
        return None
    machine = str(reveal(pool.inputs)["nodeConfig"]["machineType"])
    millicores, min_replicas = pods
    per_node = (CPU_MACHINE_TYPES[machine] - SYSTEM_DAEMONS_MILLICORES) // millicores
    count = math.ceil(min_replicas / per_node)
    pool_nodes = pool_min_nodes(reveal(pool.inputs))
    pool_monthly = by_urn[pool.urn].monthly or 0.0
    node_monthly = pool_monthly / pool_nodes if pool_nodes else 0.0
    return ServingNodes(count, machine, count * (node_monthly + nat_per_node(resources)))


def serving_pool(resources: Sequence[Registration]) -> Registration | None:
    """The GKE pool without GPUs: where the serving pods run."""
    pools = [r for r in resources if r.type == NODE_POOL and not (reveal(r.inputs).get("nodeConfig") or {}).get("guestAccelerators")]
    return pools[0] if pools else None


def _serving_pods(own: Sequence[Registration]) -> tuple[int, int] | None:
    """(CPU millicores per pod, minimum replicas) of the project's server, or None if it serves nothing."""
    deployments = [reveal(r.inputs) for r in own if r.type == "kubernetes:apps/v1:Deployment"]
    autoscalers = [reveal(r.inputs) for r in own if r.type == "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"]
    if not deployments or not autoscalers:
        return None
    container = deployments[0]["spec"]["template"]["spec"]["containers"][0]
    return cpu_millicores(container["resources"]["requests"]["cpu"]), int(autoscalers[0]["spec"]["minReplicas"])


def nat_per_node(resources: Sequence[Registration]) -> float:
    """What Cloud NAT bills a month for each VM that uses it (nothing without a NAT)."""
    if not any(r.type == "gcp:compute/routerNat:RouterNat" for r in resources):
        return 0.0
    table = price_table()
    return table["gcp"]["nat_per_vm_hour"] * table["hours_per_month"]


def project_training(own: Sequence[Registration], backends: Sequence[Registration]) -> list[TrainingRun]:
    """One run of this project's training: on the stack's training backend, up to its own deadline.

    A CronJob without GPUs runs on the serving nodes, so no GPU pool prices it.
    """
    trainers = [r for r in own if r.type in ("aws:batch/jobDefinition:JobDefinition", "kubernetes:batch/v1:CronJob")]
    if not trainers:
        return []
    if all(r.type == "kubernetes:batch/v1:CronJob" and not _requests_gpus(r) for r in trainers):
        backends = [r for r in backends if r.type != NODE_POOL]
    return training_runs([*backends, *trainers])


def scheduled_runs(own: Sequence[Registration]) -> int:
    """The most runs the project's training schedule (a Scheduler schedule, or its training CronJob's,
    whose runs Airflow starts when it is suspended) makes in a month."""
    schedules = [scheduler_to_cron(str(reveal(r.inputs)["scheduleExpression"])) for r in own if r.type == SCHEDULE]
    schedules += [
        str(reveal(r.inputs)["spec"]["schedule"])
        for r in own
        if r.type == "kubernetes:batch/v1:CronJob" and is_training_cronjob(reveal(r.inputs))
    ]
    return sum(most_runs_in_a_month(schedule) for schedule in schedules)


def _requests_gpus(cronjob: Registration) -> bool:
    pod: dict[str, Any] = reveal(cronjob.inputs)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return any(GPU_RESOURCE in ((c.get("resources") or {}).get("limits") or {}) for c in pod["containers"])
