"""Reading resource inputs as the engine sends them: paths, lists, flags, policy documents.

`requires` builds the simplest check: one value, at one path, that must pass a test.

During a real preview some inputs are unknown (an ARN not yet created). CrossGuard wraps
props in a proxy that raises when an unknown value is read, and reports that the policy
could not run on that resource yet; so the checks read values plainly and never guess.
The proxy is a `Mapping`/`Sequence` but not a `dict`/`list`, so type tests here use the
abstract types. Stack rules, which must still link resources while a value is unknown,
read through `preview_value` and `pointed_at`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from policy.rules.core import Context, ResourceCheck, ResourceView

ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})
"""The CIDRs that admit every address."""


def get(data: Any, *path: str | int) -> Any:
    """data[path[0]][path[1]]..., or None where a step is missing."""
    for key in path:
        if isinstance(key, str) and isinstance(data, Mapping):
            data = data.get(key)
        elif isinstance(key, int) and is_list(data) and -len(data) <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def items(value: Any) -> list[Any]:
    """A list input as a list; a missing one as []; a single value as [value]."""
    if value is None:
        return []
    if is_list(value):
        return list(value)
    return [value]


def truthy(value: Any) -> bool:
    """True for True and "true" (some provider inputs, e.g. launch template ones, are strings)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def falsy(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def document(value: Any) -> Mapping[str, Any]:
    """An IAM/bucket policy input, a JSON string or an object, as a mapping."""
    if isinstance(value, str):
        parsed = json.loads(value) if value.strip() else {}
        return parsed if isinstance(parsed, Mapping) else {}
    return value if isinstance(value, Mapping) else {}


def statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in items(policy.get("Statement")) if isinstance(s, Mapping)]


def is_everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any(value == "*" or (is_list(value) and "*" in value) for value in principal.values())
    return False


def requires(path: tuple[str, ...], passes: Callable[[Any], bool], message: str) -> ResourceCheck:
    """A check that the input at `path` passes; else `message`, formatted with the value as {value}."""

    def check(inputs: Mapping[str, Any], _: Context) -> str | None:
        value = get(inputs, *path)
        return None if passes(value) else message.format(value=value)

    return check


def preview_value(resource: ResourceView, *path: str) -> Any:
    """An input that may be unknown during a preview (then None: the refs did the linking)."""
    try:
        return get(resource.inputs, *path)
    except Exception:  # noqa: BLE001 - CrossGuard's unknown-value proxy raises its own error
        return None


def _identities(resource: ResourceView) -> set[str]:
    """The values another resource's input may use to point at `resource`: id, name, ARN."""
    found: set[str] = set()
    for value in (getattr(resource, "id", None), get(getattr(resource, "state", None), "bucket"),
                  get(getattr(resource, "state", None), "arn"), get(getattr(resource, "state", None), "keyId")):
        if isinstance(value, str) and value:
            found.add(value)
    return found


def pointed_at(
    source: ResourceView, prop: str, values: Callable[[], Iterable[Any]], targets: Sequence[ResourceView]
) -> list[ResourceView]:
    """The `targets` that `source`'s input `prop` refers to: by dependency, else by value.

    `values` is only called without dependencies, as reading a value may fail while it is
    unknown in a preview (then nothing is linked by value).
    """
    refs: Mapping[str, frozenset[str]] | None = getattr(source, "refs", None)
    if refs is not None and refs.get(prop):
        return [t for t in targets if t.urn in refs[prop]]
    try:
        wanted = {v for v in values() if isinstance(v, str)}
    except Exception:  # noqa: BLE001 - CrossGuard's unknown-value proxy raises its own error
        return []
    return [t for t in targets if _identities(t) & wanted]
