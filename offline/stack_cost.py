"""One stack's cost: every resource's idle price, its training runs and its cross-cloud data cost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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

    @property
    def idle_monthly(self) -> float:
        return round(sum(r.monthly or 0.0 for r in self.resources), 2)

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
            "trainingRuns": [
                {
                    "resource": t.resource, "instanceType": t.instance_type, "spot": t.spot, "hourlyUsd": t.hourly,
                    "typicalHours": t.typical_hours, "typicalUsd": round_usd(t.typical),
                    "upperBoundHours": t.upper_hours, "upperBoundUsd": round_usd(t.upper), "note": t.note,
                }
                for t in self.training
            ],
            "crossCloudEgress": None if self.egress is None else {
                "perGbReadUsd": self.egress.per_gb,
                "parts": [{"what": what, "perGbUsd": usd} for what, usd in self.egress.parts],
            },
        }


def stack_cost(stack: str, resources: Sequence[Registration]) -> StackCost:
    custom = sorted((r for r in resources if r.custom), key=lambda r: r.urn)
    idle_nodes = sum(pool_min_nodes(reveal(r.inputs)) for r in custom if r.type == "gcp:container/nodePool:NodePool")
    return StackCost(stack, [price(r, idle_nodes=idle_nodes) for r in custom], training_runs(custom),
                     cross_cloud_egress(custom))
