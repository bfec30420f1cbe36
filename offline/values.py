"""Recorded input values made fit to show: secrets redacted, numbers plain, JSON strings parsed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

# How the engine hands over a Pulumi secret: {SECRET_SIG_KEY: SECRET_SIG, "value": ...}.
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
REDACTED = "[secret]"


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def redact(value: Any) -> Any:
    """`value` with every Pulumi secret replaced by "[secret]"; numbers made plain."""
    return _plain(value, lambda _secret: REDACTED)


def reveal(value: Any) -> Any:
    """`value` with secrets unwrapped: only for comparing, never for showing."""
    return _plain(value, lambda secret: reveal(secret.get("value")))


def _plain(value: Any, on_secret: Callable[[dict[str, Any]], Any]) -> Any:
    """`value` with each secret replaced by `on_secret(secret)`, and whole floats made ints."""
    if is_secret(value):
        return on_secret(value)
    if isinstance(value, dict):
        return {k: _plain(v, on_secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, on_secret) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def json_document(value: Any) -> Any:
    """A string that holds a JSON object or list (a policy, a container spec), parsed; else None."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, (dict, list)) else None
    return None


def expand_documents(value: Any) -> Any:
    """`value` with JSON-document strings replaced by the parsed document, so diffs name the field."""
    document = json_document(value)
    if document is not None:
        return expand_documents(document)
    if isinstance(value, dict):
        return {k: expand_documents(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_documents(v) for v in value]
    return value


def show(value: Any) -> str:
    """A one-line rendering: strings as they are, anything else as compact, key-sorted JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
