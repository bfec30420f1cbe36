"""Compare two renderings of the program, resource by resource, for a review.

The core is pure: `compare_stack()` takes what each side registered (from the mock
engine) and classifies every resource by URN as create, update, replace or delete, with
its changed inputs (secrets redacted) and the reasons a replacement is likely. It then
lists the danger: what a change exposes to the internet (first), deletes, URN changes
without an alias, protect/retainOnDelete changes, protected resources deleted or
replaced, likely replacements. `offline/review.py` renders
BASE and the working tree and writes the report from these results.

Replacements are an estimate from offline/data/replacements.json; the provider's own
diff at `pulumi preview` is the authority.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

from offline.stack_cost import StackCost, stack_cost
from offline.engine import Registration
from offline.graph import _handles, mermaid
from offline.values import is_secret, json_document, redact, reveal
from policy.rules import openings, public_load_balancer, widened

REPLACEMENTS_FILE = Path(__file__).parent / "data" / "replacements.json"

Action = Literal["create", "update", "replace", "delete"]
ACTIONS: tuple[Action, ...] = ("create", "update", "replace", "delete")


@cache
def replacement_table() -> dict[str, Any]:
    return json.loads(REPLACEMENTS_FILE.read_text())


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


@dataclass(frozen=True)
class PropertyChange:
    path: str
    old: Any
    new: Any
    secret: bool = False
    forces_replacement: bool = False

    def to_json(self) -> dict[str, Any]:
        if self.secret:
            return {"path": self.path, "secret": True, "forcesReplacement": self.forces_replacement}
        return {"path": self.path, "old": self.old, "new": self.new, "forcesReplacement": self.forces_replacement}


@dataclass
class ResourceChange:
    urn: str
    type: str
    name: str
    action: Action
    properties: list[PropertyChange] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    """Why a replacement is likely."""
    options: list[str] = field(default_factory=list)
    """Resource option changes: protect, retainOnDelete, provider."""
    protected: bool = False
    """Protected at BASE (for delete/replace) or at HEAD (for create/update)."""
    old_urn: str | None = None
    """For a resource that moved under an alias: its URN at BASE."""

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "action": self.action,
            "protected": self.protected,
            "properties": [p.to_json() for p in self.properties],
            "replaceReasons": self.reasons,
            "optionChanges": self.options,
        }
        if self.old_urn:
            document["aliasOf"] = self.old_urn
        return document


DangerKind = Literal["exposure", "protected-delete", "protection-change", "delete", "urn-change", "replacement"]
# What reaches the internet comes first: it is harm the moment `pulumi up` ends.
_DANGER_ORDER: dict[str, int] = {
    "exposure": 0, "protected-delete": 1, "protection-change": 2, "delete": 3, "urn-change": 4, "replacement": 5,
}


# Within one kind of danger, what holds data comes first: a bucket before its settings.
_DATA_FIRST = {
    "aws:s3/bucket:Bucket": 0, "aws:kms/key:Key": 1, "aws:ecr/repository:Repository": 2,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": 3, "aws:kms/alias:Alias": 4,
}


@dataclass(frozen=True)
class Danger:
    kind: DangerKind
    urn: str
    type: str
    name: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "urn": self.urn, "type": self.type, "name": self.name, "message": self.message}


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


# --- property diffs ---------------------------------------------------------------------


def _forces(type_: str, path: list[str], head_inputs: dict[str, Any]) -> bool:
    entry = replacement_table()["types"].get(type_)
    if entry is None or not path:
        return False
    top = path[0]
    if top in entry.get("replaceOn", []):
        return True
    nested = entry.get("replaceOnNested", {}).get(top)
    if nested and len(path) > 1 and path[1] in nested:
        return True
    flag = entry.get("replaceOnIf", {}).get(top)
    return bool(flag and head_inputs.get(flag))


def _join(path: list[str]) -> str:
    text = ""
    for part in path:
        text += part if part.startswith("[") else (f".{part}" if text else part)
    return text


def _ignored(path: str, ignore_changes: Sequence[str]) -> bool:
    return any(path == ignored or path.startswith((f"{ignored}.", f"{ignored}[")) for ignored in ignore_changes)


def property_changes(
    type_: str, old: dict[str, Any], new: dict[str, Any], *, ignore_changes: Sequence[str] = ()
) -> list[PropertyChange]:
    """Every changed leaf between two input dicts; JSON documents are compared field by field.

    Paths under `ignore_changes` are skipped, as the engine never diffs them after creation.
    """
    head_inputs = reveal(new)
    found: list[PropertyChange] = []

    def walk(a: Any, b: Any, path: list[str]) -> None:
        if path and _ignored(_join(path), ignore_changes):
            return
        if is_secret(a) or is_secret(b):
            if reveal(a) != reveal(b):
                found.append(PropertyChange(_join(path), None, None, secret=True, forces_replacement=_forces(type_, path, head_inputs)))
            return
        doc_a, doc_b = json_document(a), json_document(b)
        if doc_a is not None and doc_b is not None:
            walk(doc_a, doc_b, path)
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                walk(a.get(key), b.get(key), [*path, str(key)])
            return
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for index, (x, y) in enumerate(zip(a, b)):
                walk(x, y, [*path, f"[{index}]"])
            return
        if redact(a) != redact(b):
            found.append(PropertyChange(_join(path), redact(a), redact(b), forces_replacement=_forces(type_, path, head_inputs)))

    walk(old, new, [])
    return found


# --- one stack ---------------------------------------------------------------------------


def _custom(resources: Sequence[Registration]) -> dict[str, Registration]:
    return {r.urn: r for r in resources if r.custom}


def _provider_urn(reference: str) -> str:
    return reference.rsplit("::", 1)[0] if "::" in reference else reference


def _compare_pair(old: Registration, new: Registration) -> ResourceChange | None:
    change = ResourceChange(new.urn, new.type, new.name, "update", protected=old.protect or new.protect)
    change.properties = property_changes(new.type, old.inputs, new.inputs, ignore_changes=new.ignore_changes)
    change.reasons = [f"`{p.path}` changes, which the provider cannot update in place" for p in change.properties if p.forces_replacement]
    if _provider_urn(old.provider) != _provider_urn(new.provider):
        change.options.append(f"provider: {old.provider or '(default)'} -> {new.provider or '(default)'}")
        change.reasons.append("its provider changes (another region or account)")
    if old.protect != new.protect:
        change.options.append(f"protect: {str(old.protect).lower()} -> {str(new.protect).lower()}")
    if old.retain_on_delete != new.retain_on_delete:
        change.options.append(f"retainOnDelete: {str(old.retain_on_delete).lower()} -> {str(new.retain_on_delete).lower()}")
    if not change.properties and not change.options:
        return None
    if change.reasons:
        change.action = "replace"
    return change


def _cascade(changes: dict[str, ResourceChange], base: dict[str, Registration], head: dict[str, Registration]) -> None:
    """A replaced resource gets a new id; a resource that refers to it through a replacing input follows."""
    settled = False
    while not settled:
        settled = True
        replaced = {urn: base[urn] for urn, c in changes.items() if c.action == "replace" and urn in base}
        handles = {handle: old.name for old in replaced.values() for handle in _handles(old) if handle != old.urn}
        for urn, resource in sorted(head.items()):
            current = changes.get(urn)
            if urn not in base or (current is not None and current.action != "update"):
                continue
            entry = replacement_table()["types"].get(resource.type, {})
            for key in entry.get("replaceOn", []):
                if _ignored(key, resource.ignore_changes):
                    continue
                value = json.dumps(reveal(resource.inputs.get(key)))
                hit = next((name for handle, name in sorted(handles.items()) if f'"{handle}"' in value), None)
                if hit is None:
                    continue
                if current is None:
                    current = changes[urn] = ResourceChange(urn, resource.type, resource.name, "update", protected=base[urn].protect or resource.protect)
                current.action = "replace"
                current.reasons.append(f"`{key}` refers to {hit}, which is replaced and gets a new id")
                settled = False
                break


def _canonical(urn: str) -> str:
    """The mock engine names the stack in a top-level resource's URN; the SDK's alias URNs do not."""
    return urn.replace("::pulumi:pulumi:Stack$", "::", 1)


def _moves(base: dict[str, Registration], head: dict[str, Registration]) -> dict[str, str]:
    """head urn -> base urn, for a resource that declares an alias to a URN that left BASE."""
    by_canonical = {_canonical(urn): urn for urn in base if urn not in head}
    moved: dict[str, str] = {}
    for urn, resource in head.items():
        if urn in base:
            continue
        for alias in resource.aliases:
            old = by_canonical.get(_canonical(alias))
            if old is not None:
                moved[urn] = old
                break
    return moved


def compare_resources(base: Sequence[Registration], head: Sequence[Registration]) -> list[ResourceChange]:
    """Every custom resource that is created, updated, replaced or deleted, by URN."""
    old, new = _custom(base), _custom(head)
    moved = _moves(old, new)
    changes: dict[str, ResourceChange] = {}
    for urn in sorted(set(old) | set(new)):
        if urn in new and urn in moved:
            change = _compare_pair(old[moved[urn]], new[urn]) or ResourceChange(urn, new[urn].type, new[urn].name, "update")
            change.old_urn = moved[urn]
            changes[urn] = change
        elif urn in new and urn in old:
            change = _compare_pair(old[urn], new[urn])
            if change:
                changes[urn] = change
        elif urn in new:
            r = new[urn]
            changes[urn] = ResourceChange(urn, r.type, r.name, "create", protected=r.protect,
                                          properties=property_changes(r.type, {}, r.inputs))
        elif urn not in moved.values():
            r = old[urn]
            changes[urn] = ResourceChange(urn, r.type, r.name, "delete", protected=r.protect)
    _cascade(changes, {**old, **{h: old[b] for h, b in moved.items()}}, new)
    return [changes[urn] for urn in sorted(changes)]


def _urn_changes(changes: Sequence[ResourceChange], base: dict[str, Registration], head: dict[str, Registration]) -> list[Danger]:
    """A delete and a create of the same type that look like one resource renamed or re-parented."""
    created = [c for c in changes if c.action == "create"]
    found = []
    for deleted in (c for c in changes if c.action == "delete"):
        old = base[deleted.urn]
        for candidate in created:
            new = head[candidate.urn]
            if new.type != old.type:
                continue
            if new.name == old.name or reveal(new.inputs) == reveal(old.inputs):
                found.append(Danger(
                    "urn-change", new.urn, new.type, new.name,
                    f"URN changes without an alias: `{old.urn}` -> `{new.urn}`; Pulumi deletes it and creates it "
                    f"again. Add `aliases=[...]` with the old URN if it is the same resource.",
                ))
                break
    return found


def _exposure(change: ResourceChange, was: Registration | None, now: Registration) -> Danger | None:
    """A change that lets the internet reach something it could not reach at BASE (policy.rules.openings)."""
    before = openings(was.type, reveal(was.inputs)) if was is not None else []
    opened = widened(before, openings(now.type, reveal(now.inputs)))
    if not opened:
        return None
    message = "opens to the internet: " + "; ".join(o.describe() for o in opened)
    if now.type == "kubernetes:core/v1:Service" and public_load_balancer(reveal(now.inputs)):
        message += (" (no internal load-balancer annotation: `mlops:gke.publicEndpoint: true` does this; "
                    "the endpoint needs authentication in front of it)")
    return Danger("exposure", change.urn, change.type, change.name, message)


def danger(changes: Sequence[ResourceChange], base: Sequence[Registration], head: Sequence[Registration]) -> list[Danger]:
    old, new = _custom(base), _custom(head)
    found: list[Danger] = []
    for c in changes:
        if c.urn in new:
            exposed = _exposure(c, old.get(c.old_urn or c.urn), new[c.urn])
            if exposed:
                found.append(exposed)
        if c.action in ("delete", "replace") and old.get(c.urn, old.get(c.old_urn or "", None)) is not None:
            was = old.get(c.urn) or old[c.old_urn or ""]
            if was.protect:
                found.append(Danger("protected-delete", c.urn, c.type, c.name,
                                    f"is protected and would be {'deleted' if c.action == 'delete' else 'replaced'}: "
                                    f"`pulumi up` stops on it until it is unprotected"))
        for option in c.options:
            if option.startswith(("protect:", "retainOnDelete:")):
                removed = option.endswith("-> false")
                found.append(Danger("protection-change", c.urn, c.type, c.name,
                                    f"{option}{' (protection removed)' if removed else ''}"))
        if c.action == "delete":
            found.append(Danger("delete", c.urn, c.type, c.name, "is deleted"))
        if c.action == "replace":
            found.append(Danger("replacement", c.urn, c.type, c.name,
                                "likely replaced (estimate): " + "; ".join(c.reasons)))
    found += _urn_changes(changes, old, new)
    return sorted(found, key=lambda d: (_DANGER_ORDER[d.kind], "removed" not in d.message,
                                        _DATA_FIRST.get(d.type, len(_DATA_FIRST)), d.urn, d.message))


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
