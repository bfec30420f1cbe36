"""The sample values still in a stack's config (an account id, a domain), named as the stack file writes them."""

from __future__ import annotations

import json
from typing import Any

from components.config import placeholder


def placeholders(config: dict[str, str]) -> list[str]:
    """One line per sample value still in a stack's config, named as the stack file writes it."""
    found: list[str] = []

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for name, inner in value.items():
                walk(inner, f"{key}.{name}")
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{key}[{index}]")
        elif (reason := placeholder(value)) is not None:
            found.append(f"  {key}: {value}  ({reason})")

    for key, text in sorted(config.items()):
        try:
            value = json.loads(text) if text[:1] in "[{" else text
        except json.JSONDecodeError:
            value = text
        walk(value, key)
    return found
