"""`make plan` as text: the resource tree with each resource's settings and facts, the outputs and a count by type.

Values only known after deployment (ids, digests, AMI) show as the offline engine's placeholders.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from offline.engine import Recording, Registration
from offline.placeholders import placeholders
from offline.plan_details import details
from offline.plan_settings import settings
from offline.values import redact


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _describe(resource: Registration) -> str:
    shown = {k: v for k, v in settings(resource.type, redact(resource.inputs)).items() if v is not None}
    flags = [flag for flag, on in (("PROTECTED", resource.protect), ("retain-on-delete", resource.retain_on_delete)) if on]
    parts = [f"{resource.type}  {resource.name}"]
    if flags:
        parts.append(f"[{', '.join(flags)}]")
    if shown:
        parts.append(" ".join(f"{k}={_show(v)}" for k, v in shown.items()))
    return "  ".join(parts)


def render(stack: str, recording: Recording) -> str:
    children: dict[str, list[Registration]] = {}
    urns = {r.urn for r in recording.resources}
    roots: list[Registration] = []
    for resource in recording.resources:
        if resource.parent in urns:
            children.setdefault(resource.parent, []).append(resource)
        else:
            roots.append(resource)

    lines = [f"Stack mlops/{stack}: the program run offline under the mock engine", ""]

    def walk(nodes: list[Registration], prefix: str) -> None:
        ordered = sorted(nodes, key=lambda r: (r.custom, r.type, r.name))
        for index, node in enumerate(ordered):
            last = index == len(ordered) - 1
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{_describe(node)}")
            below = prefix + ("   " if last else "│  ")
            kids = children.get(node.urn, [])
            lines.extend(f"{below}{'│' if kids else ' '}    {line}" for line in details(node) if node.custom)
            walk(kids, below)

    walk(roots, "")
    lines += ["", "Outputs:"]
    for key, value in sorted(recording.outputs.items()):
        lines.append(f"  {key}: {'[secret]' if key in recording.secret_outputs else _show(redact(value))}")
    counts = Counter(r.type for r in recording.resources if r.custom)
    lines += ["", f"{sum(counts.values())} resources to create:"]
    lines += [f"  {count:3d}  {type_}" for type_, count in sorted(counts.items())]
    return "\n".join(lines)


def render_placeholders(config: dict[str, str]) -> str:
    lines = placeholders(config)
    if not lines:
        return ""
    return "\n".join(["", "", "Still to replace before a real deploy:", *lines])
