"""Classify every custom resource of two renderings by URN: create, update, replace or delete.

A pair with the same URN is an update, or a likely replacement when an input the provider
cannot update in place changes (offline/properties.py), when its provider changes, or when
it refers to a replaced resource through such an input. A resource that declares an alias
to a URN that left BASE is a move, compared with its old self.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from offline.engine import Registration
from offline.graph import handles
from offline.properties import PropertyChange, is_ignored, property_changes, replacement_table
from offline.values import reveal

Action = Literal["create", "update", "replace", "delete"]

ACTIONS: tuple[Action, ...] = ("create", "update", "replace", "delete")


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


def custom_by_urn(resources: Sequence[Registration]) -> dict[str, Registration]:
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
        by_handle = {handle: old.name for old in replaced.values() for handle in handles(old) if handle != old.urn}
        for urn, resource in sorted(head.items()):
            current = changes.get(urn)
            if urn not in base or (current is not None and current.action != "update"):
                continue
            entry = replacement_table()["types"].get(resource.type, {})
            # A value that is also this resource's own name or id is not a reference (a queue and a
            # schedule may share a name).
            own = handles(base[urn])
            for key in entry.get("replaceOn", []):
                if is_ignored(key, resource.ignore_changes):
                    continue
                value = json.dumps(reveal(resource.inputs.get(key)))
                hit = next(
                    (name for handle, name in sorted(by_handle.items()) if handle not in own and f'"{handle}"' in value), None
                )
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
    old, new = custom_by_urn(base), custom_by_urn(head)
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
