"""A small IAM policy evaluator: enough of AWS's rules to check the deployer policy offline.

What it does as AWS does: an explicit Deny wins over any Allow; no matching Allow is an
implicit deny; Action/NotAction match case-insensitively with `*` and `?`; Resource/
NotResource match case-sensitively; every condition operator of a statement must hold, any
one value of a key is enough; a negated operator (StringNotEquals, StringNotLike, ArnNotLike)
holds when the key is absent, a positive one does not, and `...IfExists` holds when absent.
What it does not: policy variables, ForAnyValue/ForAllValues, numeric and date operators.
A policy that uses them raises, rather than being judged wrongly.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

Decision = Literal["allow", "deny", "implicit-deny"]
Context = Mapping[str, str | Sequence[str]]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def glob(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM wildcards: `*` any run of characters (including `/` and `:`), `?` one character."""
    if "${" in pattern:
        raise ValueError(f"policy variables are not supported: {pattern!r}")
    regex = fnmatch.translate(pattern.replace("[", "[[]"))
    return re.fullmatch(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


def _matches_any(patterns: Any, value: str, *, case_sensitive: bool) -> bool:
    return any(glob(p, value, case_sensitive=case_sensitive) for p in _as_list(patterns))


_POSITIVE = {
    "StringEquals": lambda want, got: want == got,
    "StringLike": lambda want, got: glob(want, got),
    "ArnEquals": lambda want, got: want == got,
    "ArnLike": lambda want, got: glob(want, got),
    "Bool": lambda want, got: str(want).lower() == str(got).lower(),
}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike"}


def _condition_holds(operator: str, key: str, wanted: Any, context: Context) -> bool:
    if operator == "Null":
        absent = key not in context
        return all(absent == (str(w).lower() == "true") for w in _as_list(wanted))
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if key not in context:
        return if_exists or base in _NEGATED
    got = [str(v) for v in _as_list(context[key])]
    if base in _NEGATED:
        test = _POSITIVE[_NEGATED[base]]
        return not any(test(str(w), g) for w in _as_list(wanted) for g in got)
    if base not in _POSITIVE:
        raise ValueError(f"condition operator {operator!r} is not supported by this evaluator")
    return any(_POSITIVE[base](str(w), g) for w in _as_list(wanted) for g in got)


def _statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Context) -> bool:
    if "Action" in statement:
        if not _matches_any(statement["Action"], action, case_sensitive=False):
            return False
    elif _matches_any(statement["NotAction"], action, case_sensitive=False):
        return False
    if "Resource" in statement:
        if not _matches_any(statement["Resource"], resource, case_sensitive=True):
            return False
    elif _matches_any(statement["NotResource"], resource, case_sensitive=True):
        return False
    for operator, keys in statement.get("Condition", {}).items():
        for key, wanted in keys.items():
            if not _condition_holds(operator, key, wanted, context):
                return False
    return True


def evaluate(policy: Mapping[str, Any], action: str, resource: str, context: Context | None = None) -> Decision:
    """What one identity policy decides for `action` on `resource` with request `context`."""
    applicable = [s for s in _as_list(policy["Statement"]) if _statement_applies(s, action, resource, context or {})]
    if any(s["Effect"] == "Deny" for s in applicable):
        return "deny"
    if any(s["Effect"] == "Allow" for s in applicable):
        return "allow"
    return "implicit-deny"
