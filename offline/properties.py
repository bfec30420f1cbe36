"""The changed inputs of one resource between two renderings, and which likely force a replacement.

Every changed leaf is found, JSON documents (policies, container specs) field by field, with
secrets kept out. Whether a change replaces the resource is an estimate from
offline/data/replacements.json; the provider's own diff at `pulumi preview` is the authority.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from offline.tables import data_table
from offline.values import is_secret, json_document, redact, reveal


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


def replacement_table() -> dict[str, Any]:
    return data_table("replacements")


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


def is_ignored(path: str, ignore_changes: Sequence[str]) -> bool:
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
        if path and is_ignored(_join(path), ignore_changes):
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
