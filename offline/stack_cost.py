"""One stack's cost: every resource's idle price, its training runs, its cross-cloud data cost,
and how that splits into each project's share and the shared rest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from offline.cost_by_project import OneMoreProject, ProjectCost, project_costs, shared_parts
from offline.engine import Registration
from offline.prices import ResourceCost, pool_min_nodes, price, round_usd
from offline.training_cost import CrossCloudEgress, TrainingRun, cross_cloud_egress, training_runs
from offline.values import reveal


@dataclass(frozen=True)
class StackCost:
    stack: str
    resources: list[ResourceCost]
    training: list[TrainingRun]
    egress: CrossCloudEgress | None = None
    projects: list[ProjectCost] = field(default_factory=list)
    shared: list[tuple[str, float]] = field(default_factory=list)
    """(name, USD a month) of what no project holds: a resource, or the rest of a node pool or NAT."""
    one_more: OneMoreProject | None = None
    """What one more served project adds while idle (offline/cost_one_more.py), where it was measured."""

    @property
    def idle_monthly(self) -> float:
        return round(sum(r.monthly or 0.0 for r in self.resources), 2)

    @property
    def shared_monthly(self) -> float:
        """What no project holds: the idle total less every project's share (so the parts add up to the total)."""
        return round(self.idle_monthly - sum(p.idle_monthly for p in self.projects), 2)

    @property
    def unpriced(self) -> list[ResourceCost]:
        return [r for r in self.resources if r.kind == "unpriced"]

    def to_json(self) -> dict[str, Any]:
        return {
            "idleMonthlyUsd": self.idle_monthly,
            "unpricedTypes": sorted({r.type for r in self.unpriced}),
            "resources": [
                {"urn": r.urn, "type": r.type, "name": r.name, "kind": r.kind, "monthlyUsd": r.monthly, "note": r.note}
                for r in self.resources
            ],
            "trainingRuns": [_training_json(run) for run in self.training],
            "crossCloudEgress": None if self.egress is None else {
                "perGbReadUsd": self.egress.per_gb,
                "parts": [{"what": what, "perGbUsd": usd} for what, usd in self.egress.parts],
            },
            "projects": {p.project: _project_json(p) for p in self.projects},
            "sharedIdleMonthlyUsd": self.shared_monthly,
            "shared": [{"name": name, "monthlyUsd": usd} for name, usd in self.shared],
            "oneMoreServedProject": None if self.one_more is None else {
                "like": self.one_more.like, "serve": self.one_more.serve, "idleMonthlyUsd": self.one_more.monthly,
            },
        }


def _training_json(run: TrainingRun) -> dict[str, Any]:
    return {
        "resource": run.resource, "instanceType": run.instance_type, "spot": run.spot, "hourlyUsd": run.hourly,
        "typicalHours": run.typical_hours, "typicalUsd": round_usd(run.typical),
        "upperBoundHours": run.upper_hours, "upperBoundUsd": round_usd(run.upper), "note": run.note,
    }


def _project_json(project: ProjectCost) -> dict[str, Any]:
    nodes = project.nodes
    return {
        "idleMonthlyUsd": project.idle_monthly,
        "servingNodes": None if nodes is None else {"count": nodes.count, "machineType": nodes.machine,
                                                      "monthlyUsd": round_usd(nodes.monthly)},
        "resources": [r.urn for r in project.resources],
        "trainingRuns": [_training_json(run) for run in project.training],
    }


def stack_cost(stack: str, resources: Sequence[Registration]) -> StackCost:
    custom = sorted((r for r in resources if r.custom), key=lambda r: r.urn)
    idle_nodes = sum(pool_min_nodes(reveal(r.inputs)) for r in custom if r.type == "gcp:container/nodePool:NodePool")
    priced = [price(r, idle_nodes=idle_nodes) for r in custom]
    projects = project_costs(stack, custom, priced)
    return StackCost(stack, priced, training_runs(custom), cross_cloud_egress(custom), projects,
                     shared_parts(custom, priced, projects))
