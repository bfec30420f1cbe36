"""The danger in a stack's changes, most harmful first.

What a change exposes to the internet comes first (policy.rules.openings), then protected
resources deleted or replaced, protect/retainOnDelete changes, deletes, URN changes without
an alias and likely replacements; within one kind, what holds data comes first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from offline.changes import ResourceChange, custom_by_urn
from offline.engine import Registration
from offline.values import reveal
from policy.rules import openings, public_load_balancer, widened

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
    old, new = custom_by_urn(base), custom_by_urn(head)
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
