"""A hand-made registration, for the tests of what the offline tools make of one (plan lines, prices)."""

from __future__ import annotations

from typing import Any

from offline.engine import Registration


def reg(type_: str, name: str = "r", /, *, custom: bool = True, parent: str = "", protect: bool = False, retain: bool = False,
        aliases: tuple[str, ...] = (), **inputs: Any) -> Registration:
    return Registration(type=type_, name=name, urn=f"urn:pulumi:s::mlops::{type_}::{name}", id=name, inputs=inputs,
                        state=dict(inputs), parent=parent, provider="", protect=protect, retain_on_delete=retain,
                        delete_before_replace=False, custom=custom, aliases=aliases)
