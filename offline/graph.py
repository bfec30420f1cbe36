"""A Mermaid diagram of a stack's resources: parent/child and input references.

`make graph` draws the whole stack; the diff report draws the changed resources and one
hop around them. Node ids are hashes of URNs and everything is sorted, so the same
resources always give the same text. Past `cap` nodes the rest is counted, not drawn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from offline.engine import Registration

DEFAULT_CAP = 60
# How a node looks per change, in the diff.
ACTION_STYLES = {
    "create": "fill:#d4f7d4,stroke:#2a7d2a",
    "update": "fill:#fff3c4,stroke:#a67c00",
    "replace": "fill:#ffd8b0,stroke:#c05800",
    "delete": "fill:#ffd0d0,stroke:#b00020",
}


def node_id(urn: str) -> str:
    return "n" + hashlib.sha256(urn.encode()).hexdigest()[:10]


def _short_type(type_: str) -> str:
    """aws:s3/bucket:Bucket -> s3.Bucket; mlops:storage:DataBucket -> DataBucket."""
    package, _, rest = type_.partition(":")
    module, _, kind = rest.rpartition(":")
    if package in ("aws", "kubernetes", "gcp"):
        return f"{module.split('/')[0]}.{kind}"
    return kind or type_


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def handles(resource: Registration) -> set[str]:
    """The values another resource's input may hold to point at this one."""
    found = {resource.urn}
    if resource.id:
        found.add(resource.id)
    for key in ("arn", "name", "bucket", "repositoryUrl"):
        value = resource.state.get(key)
        if isinstance(value, str) and len(value) > 3:
            found.add(value)
    return found


def edges(resources: Sequence[Registration]) -> set[tuple[str, str, str]]:
    """(from urn, to urn, kind): "parent" from a component to its child, "ref" from a user to what it refers to."""
    by_urn = {r.urn: r for r in resources}
    owner: dict[str, str] = {}
    for resource in sorted(resources, key=lambda r: r.urn):
        for handle in handles(resource):
            owner.setdefault(handle, resource.urn)
    found: set[tuple[str, str, str]] = set()
    for resource in resources:
        if resource.parent in by_urn:
            found.add((resource.parent, resource.urn, "parent"))
        for text in _strings(resource.inputs):
            target = owner.get(text) or owner.get(text.split("/*")[0])
            if target and target != resource.urn:
                found.add((resource.urn, target, "ref"))
    return found


def mermaid(
    resources: Sequence[Registration],
    *,
    focus: Mapping[str, str] | None = None,
    cap: int = DEFAULT_CAP,
) -> str:
    """A `graph LR` of `resources`, or of `focus` (urn -> action) and its one-hop neighbours."""
    all_edges = edges(resources)
    by_urn = {r.urn: r for r in resources}
    if focus is None:
        chosen = set(by_urn)
    else:
        chosen = {urn for urn in focus if urn in by_urn}
        for source, target, _ in all_edges:
            if source in focus or target in focus:
                chosen.update({source, target})
    ordered = sorted(chosen, key=lambda urn: (0 if focus and urn in focus else 1, urn))
    drawn = set(ordered[:cap])
    lines = ["graph LR"]
    for urn in sorted(drawn):
        resource = by_urn[urn]
        label = f"{_short_type(resource.type)}<br/>{resource.name}".replace('"', "'")
        shape = f'["{label}"]' if resource.custom else f'(["{label}"])'
        lines.append(f"  {node_id(urn)}{shape}")
    for source, target, kind in sorted(all_edges):
        if source in drawn and target in drawn:
            arrow = "-->" if kind == "parent" else "-.->"
            lines.append(f"  {node_id(source)} {arrow} {node_id(target)}")
    if focus:
        for action, style in ACTION_STYLES.items():
            members = sorted(node_id(urn) for urn in drawn if focus.get(urn) == action)
            if members:
                lines.append(f"  classDef {action} {style}")
                lines.append(f"  class {','.join(members)} {action}")
    hidden = len(chosen) - len(drawn)
    if hidden > 0:
        lines.append(f'  more["+{hidden} more not drawn (cap {cap})"]')
    return "\n".join(lines)
