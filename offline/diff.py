"""Compare two renderings of the program, stack by stack, for a review.

The core is pure: `compare_stack()` takes what each side registered (from the mock
engine) and gives the stack's resource changes (offline/changes.py), its danger
(offline/danger.py), its cost on each side and a graph of what changed. `labels()` says
what a CI job applies to the PR. `offline/review.py` renders BASE and the working tree
and writes the report from these results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from offline.changes import ACTIONS, ResourceChange, compare_resources
from offline.danger import Danger, danger
from offline.engine import Registration
from offline.graph import mermaid
from offline.stack_cost import StackCost, stack_cost

# The caveat both reports carry, in the Markdown and in report.json.
HONESTY = (
    "This is an estimate. It compares program with program: both sides run offline under "
    "Pulumi's mock engine with the stack files' config, not against live state, so drift and "
    "provider-computed changes (ids, AMIs, image digests) are not shown. Likely replacements "
    "come from a kept table of replacing inputs (offline/data/replacements.json); "
    "`pulumi preview` is the authority."
)


class Violation(Protocol):
    """A policy result, as policy/rules.py's `evaluate()` returns them (duck-typed here)."""

    @property
    def rule(self) -> str: ...
    @property
    def severity(self) -> str: ...  # "mandatory" | "advisory"
    @property
    def urn(self) -> str: ...
    @property
    def message(self) -> str: ...


@dataclass(frozen=True)
class StackRun:
    """One side of one stack: what the program registered, or why it failed."""

    environment: str | None
    resources: list[Registration] | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.resources is not None


@dataclass
class StackDiff:
    stack: str
    environment: str | None
    status: Literal["ok", "added", "removed", "failed"]
    was_prod: bool = False
    """BASE's environment was prod (a stack moved off prod still counts as prod here)."""
    errors: dict[str, str] = field(default_factory=dict)
    """"base"/"head" -> the one-line failure of that side."""
    changes: list[ResourceChange] = field(default_factory=list)
    danger: list[Danger] = field(default_factory=list)
    cost_base: StackCost | None = None
    cost_head: StackCost | None = None
    policy: list[Violation] | None = None
    graph: str = ""

    @property
    def counts(self) -> dict[str, int]:
        return {action: sum(1 for c in self.changes if c.action == action) for action in ACTIONS}

    @property
    def changed(self) -> bool:
        return bool(self.changes) or self.status != "ok"

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod" or self.was_prod

    @property
    def idle_delta(self) -> float | None:
        if self.cost_base is None and self.cost_head is None:
            return None
        base = self.cost_base.idle_monthly if self.cost_base else 0.0
        head = self.cost_head.idle_monthly if self.cost_head else 0.0
        return round(head - base, 2)

    def cost_rows(self) -> list[dict[str, Any]]:
        """Per resource whose idle cost differs: base, head, delta (None where unpriced)."""
        base = {r.urn: r for r in (self.cost_base.resources if self.cost_base else [])}
        head = {r.urn: r for r in (self.cost_head.resources if self.cost_head else [])}
        rows = []
        for urn in sorted(set(base) | set(head)):
            old, new = base.get(urn), head.get(urn)
            old_usd = old.monthly if old else 0.0
            new_usd = new.monthly if new else 0.0
            either = new or old
            assert either is not None
            unpriced = (old is not None and old.kind == "unpriced") or (new is not None and new.kind == "unpriced")
            if old_usd == new_usd and not (unpriced and (old is None or new is None)):
                continue
            delta = None if old_usd is None or new_usd is None else round(new_usd - old_usd, 2)
            rows.append({
                "urn": urn, "type": either.type, "name": either.name,
                "baseMonthlyUsd": old_usd if old else None, "headMonthlyUsd": new_usd if new else None,
                "deltaMonthlyUsd": delta,
            })
        return rows

    def to_json(self) -> dict[str, Any]:
        unpriced = sorted({r.type for c in (self.cost_base, self.cost_head) if c for r in c.unpriced})
        return {
            "environment": self.environment,
            "status": self.status,
            "errors": self.errors,
            "counts": None if self.status == "failed" else self.counts,
            "danger": [d.to_json() for d in self.danger],
            "changes": [c.to_json() for c in self.changes],
            "cost": {
                "baseIdleMonthlyUsd": self.cost_base.idle_monthly if self.cost_base else None,
                "headIdleMonthlyUsd": self.cost_head.idle_monthly if self.cost_head else None,
                "deltaMonthlyUsd": self.idle_delta,
                "resources": self.cost_rows(),
                "unpricedTypes": unpriced,
                "trainingRun": self.cost_head.to_json()["trainingRuns"] if self.cost_head else [],
                "baseTrainingRun": self.cost_base.to_json()["trainingRuns"] if self.cost_base else [],
                "crossCloudEgress": self.cost_head.to_json()["crossCloudEgress"] if self.cost_head else None,
            },
            "policy": None if self.policy is None else [
                {"rule": v.rule, "severity": v.severity, "urn": v.urn, "message": v.message} for v in self.policy
            ],
            "graph": self.graph,
        }


def compare_stack(
    stack: str,
    base: StackRun | None,
    head: StackRun | None,
    *,
    policy: Sequence[Violation] | None = None,
) -> StackDiff:
    """The diff of one stack; a side that is missing is all-create or all-delete."""
    environment = (head.environment if head else None) or (base.environment if base else None)
    result = StackDiff(stack, environment, "ok", was_prod=bool(base and base.environment == "prod"),
                       policy=None if policy is None else list(policy))
    for side, run in (("base", base), ("head", head)):
        if run is not None and not run.ok:
            result.errors[side] = run.error or "failed"
    if result.errors:
        result.status = "failed"
        return result
    if base is None:
        result.status = "added"
    elif head is None:
        result.status = "removed"
    old = base.resources if base and base.resources is not None else []
    new = head.resources if head and head.resources is not None else []
    result.changes = compare_resources(old, new)
    result.danger = danger(result.changes, old, new)
    result.cost_base = stack_cost(stack, old) if base else None
    result.cost_head = stack_cost(stack, new) if head else None
    focus = {c.urn: c.action for c in result.changes}
    if focus:
        # Deleted resources exist only at BASE; draw them with the HEAD resources.
        drawn = {r.urn: r for r in old if r.urn in focus} | {r.urn: r for r in new}
        result.graph = mermaid(list(drawn.values()), focus=focus)
    return result


def labels(diffs: Sequence[StackDiff]) -> list[str]:
    """What a CI job applies to the PR."""
    found: set[str] = set()
    if all(not d.changed for d in diffs):
        found.add("no-infra-change")
    for d in diffs:
        if d.is_prod and any(c.action in ("delete", "replace") for c in d.changes):
            found.add("prod-delete")
        if d.is_prod and any(x.kind == "exposure" for x in d.danger):
            found.add("prod-exposed")
        if any(x.kind == "protection-change" for x in d.danger):
            found.add("protection-change")
        if any(c.action == "replace" for c in d.changes):
            found.add("replacement")
        if d.status == "failed":
            found.add("stack-failed")
        if d.policy and any(v.severity == "mandatory" for v in d.policy):
            found.add("policy-violation")
    return sorted(found)


def compare_sides(
    base: Mapping[str, StackRun],
    head: Mapping[str, StackRun],
    *,
    policy: Mapping[str, Sequence[Violation]] | None = None,
) -> list[StackDiff]:
    """Every stack of either side, prod first, then by name."""
    diffs = [
        compare_stack(stack, base.get(stack), head.get(stack), policy=None if policy is None else policy.get(stack, []))
        for stack in set(base) | set(head)
    ]
    return sorted(diffs, key=lambda d: (not d.is_prod, d.stack))
