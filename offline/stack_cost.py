"""One stack's cost: every resource's idle price, its training runs, its cross-cloud data cost,
how that splits into each project's share and the shared rest, and a month's estimate (idle plus
the busiest month's scheduled runs) beside the stack's budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from offline.cost_by_project import OneMoreProject, ProjectCost, pipeline_schedules, project_costs, shared_parts
from offline.auto_mode_cost import minimum_replicas, runs_auto_mode
from offline.cost_pipeline import PipelineCost, pipeline_cost
from offline.engine import Registration
from offline.managed_prices import AutoMode
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
    pipeline: PipelineCost | None = None
    """What the pipeline (Airflow) holds: its resources and its CPU-pool nodes; None without one."""
    one_more: OneMoreProject | None = None
    """What one more served project adds while idle (offline/cost_one_more.py), where it was measured."""
    budget_monthly: float | None = None
    """The stack's AWS budget limit (monitoring.budget.monthlyUsd), as registered; None without a budget."""

    @property
    def idle_monthly(self) -> float:
        return round(sum(r.monthly or 0.0 for r in self.resources), 2)

    @property
    def shared_monthly(self) -> float:
        """What neither a project nor the pipeline holds: the idle total less their shares (so the parts add up)."""
        pipeline = self.pipeline.idle_monthly if self.pipeline else 0.0
        return round(self.idle_monthly - sum(p.idle_monthly for p in self.projects) - pipeline, 2)

    @property
    def scheduled_runs(self) -> int:
        """The busiest month's scheduled training runs, over every project."""
        return sum(p.runs_per_month for p in self.projects)

    @property
    def scheduled_monthly(self) -> float | None:
        """What those runs bill at a typical run each; None where one is unpriced."""
        parts = [p.scheduled_monthly for p in self.projects]
        return None if None in parts else round(sum(usd for usd in parts if usd is not None), 2)

    @property
    def month_estimate(self) -> float | None:
        """A month's bill: idle, plus the busiest month's scheduled runs. What monitoring.budget.monthlyUsd is set near."""
        scheduled = self.scheduled_monthly
        return None if scheduled is None else round(self.idle_monthly + scheduled, 2)

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
            "pipeline": None if self.pipeline is None else _pipeline_json(self.pipeline),
            "sharedIdleMonthlyUsd": self.shared_monthly,
            "shared": [{"name": name, "monthlyUsd": usd} for name, usd in self.shared],
            "oneMoreServedProject": None if self.one_more is None else {
                "like": self.one_more.like, "serve": self.one_more.serve, "idleMonthlyUsd": self.one_more.monthly,
            },
            "budget": {
                "monthlyUsd": self.budget_monthly, "monthEstimateUsd": self.month_estimate,
                "scheduledRunsPerMonth": self.scheduled_runs, "scheduledRunsUsd": self.scheduled_monthly,
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
        "scheduledRunsPerMonth": project.runs_per_month,
    }


def _pipeline_json(pipeline: PipelineCost) -> dict[str, Any]:
    nodes = pipeline.nodes
    return {
        "idleMonthlyUsd": pipeline.idle_monthly,
        "alwaysOnMillicores": pipeline.millicores,
        "nodes": None if nodes is None else {"count": nodes.count, "machineType": nodes.machine, "monthlyUsd": round_usd(nodes.monthly)},
        "resources": [r.urn for r in pipeline.resources],
    }


def stack_cost(stack: str, resources: Sequence[Registration]) -> StackCost:
    custom = sorted((r for r in resources if r.custom), key=lambda r: r.urn)
    idle_nodes = sum(pool_min_nodes(reveal(r.inputs)) for r in custom if r.type == "gcp:container/nodePool:NodePool")
    auto_mode = AutoMode(minimum_replicas(custom)) if runs_auto_mode(custom) else None
    priced = [price(r, idle_nodes=idle_nodes, auto_mode=auto_mode) for r in custom]
    projects = project_costs(stack, custom, priced, pipeline=pipeline_schedules(resources))
    pipeline = pipeline_cost(custom, priced)
    shared = shared_parts(
        custom, priced, projects,
        pipeline=[r.urn for r in pipeline.resources] if pipeline else (),
        pipeline_nodes=pipeline.nodes.count if pipeline and pipeline.nodes else 0,
    )
    return StackCost(stack, priced, training_runs(custom), cross_cloud_egress(custom), projects, shared,
                     pipeline=pipeline, budget_monthly=budget_limit(custom))


def budget_limit(resources: Sequence[Registration]) -> float | None:
    """The USD a month the stack's AWS budget allows, as the program registered it."""
    limits = [float(reveal(r.inputs)["limitAmount"]) for r in resources if r.type == "aws:budgets/budget:Budget"]
    return limits[0] if limits else None
