"""The shared error and hint machinery: every problem becomes one line of a `ConfigError`.

Each line names the key as written in the stack file, the bad value and what is allowed,
with a hint where one helps: the key it was probably meant to be (did you mean), a number
or boolean written in quotes, or the `--path` a nested setting set as one flat key needed.
"""

from __future__ import annotations

import difflib
import json
import re
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import pulumi
from pydantic import BaseModel

from components.config.section import PROJECT


class ConfigError(pulumi.RunError):
    """Invalid stack configuration; raised before any resource is registered.

    Carries every problem found, one line each, so a user fixes them all in one pass.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        if len(problems) == 1:
            super().__init__(problems[0])
        else:
            lines = "\n".join(f"  {problem}" for problem in problems)
            super().__init__(f"{len(problems)} problems in the stack config:\n{lines}")


class BrokenRule(ValueError):
    """A cross-field rule broken: carries the key (relative to its section) and the value."""

    def __init__(self, key: str, value: Any, reason: str) -> None:
        self.key, self.value, self.reason = key, value, reason
        super().__init__(f"{key}={value!r} {reason}")


class BrokenRules(ValueError):
    """Every stack-wide rule that is broken, reported together."""

    def __init__(self, rules: list[BrokenRule]) -> None:
        self.rules = rules
        super().__init__("; ".join(str(rule) for rule in rules))


def did_you_mean(key: str, allowed: Iterable[str]) -> str:
    """` (did you mean X?)` for the allowed name nearest `key`, or nothing if none is near."""
    close = difflib.get_close_matches(key, list(allowed), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def unknown_top_level_key(key: str, sections: tuple[str, ...], top_level_keys: tuple[str, ...]) -> str:
    """The line for a key of the namespace that is none of `top_level_keys`."""
    section, dot, field = key.partition(".")
    if dot and section in sections:
        # `pulumi config set mlops:storage.backupRegion x` without --path makes a flat key.
        return (
            f"{PROJECT}:{key}: is set as one flat key, so the program never sees it; set nested "
            f"settings with --path: `pulumi config set --path '{PROJECT}:{key}' <value>`, which "
            f"writes {field} under {PROJECT}:{section}"
        )
    return (
        f"{PROJECT}:{key}: unknown key{did_you_mean(key, top_level_keys)}; "
        f"allowed keys are {', '.join(top_level_keys)}"
    )


# Where pydantic names a StackConfig field, the stack file names this key.
_KEY_NAMES = {"aws_region": "aws:region"}

_MISSING_HINTS = {
    f"{PROJECT}:environment": "set it to dev or prod",
    "aws:region": "set the AWS region to deploy to (for example us-east-1)",
}


def describe(error: Any, raw: dict[str, Any], sections: Mapping[str, type[BaseModel]]) -> list[str]:
    """One line per problem: the key as written in YAML, the bad value, what is allowed.

    `error` is one of pydantic's `ValidationError.errors()`, `raw` the values as given, and
    `sections` the model of each object-valued key (to list a section's allowed keys).
    """
    location = [str(part) for part in error["loc"]]
    cause = error.get("ctx", {}).get("error")
    rules = cause.rules if isinstance(cause, BrokenRules) else [cause] if isinstance(cause, BrokenRule) else []
    if rules:
        return [f"{PROJECT}:{'.'.join([*location, rule.key])}: {_show(rule.value)} {rule.reason}" for rule in rules]
    dotted = ".".join(location)
    key = _KEY_NAMES.get(dotted, f"{PROJECT}:{dotted}")
    if error["type"] == "extra_forbidden":
        where = ".".join(location[:-1])
        allowed = [field.alias or name for name, field in _model_at(location, sections).model_fields.items()]
        return [
            f"{key}: unknown key{did_you_mean(location[-1], allowed)}; "
            f"allowed keys in {PROJECT}:{where} are {', '.join(allowed)}"
        ]
    if error["type"] == "missing":
        return [f"{key}: missing; {_MISSING_HINTS.get(key, 'set it in the stack file')}"]
    message = str(cause) if isinstance(cause, ValueError) else error["msg"]
    value = _lookup(raw, location) if dotted not in _KEY_NAMES else error.get("input")
    return [f"{key}: {_show(value)} is invalid: {message}{_unquote_hint(error)}"]


def _model_at(location: list[str], sections: Mapping[str, type[BaseModel]]) -> type[BaseModel]:
    """The model that holds the last key of `location`: its section's, or a nested one's.

    A map section (`projects`) has the name of an entry at its second level: skipped.
    """
    model = sections[location[0]]
    nested = location[2:-1] if location[0] == "projects" else location[1:-1]
    for part in nested:
        field = next(f for name, f in model.model_fields.items() if part in (name, f.alias))
        model = next(t for t in typing.get_args(field.annotation) or (field.annotation,) if isinstance(t, type))
    return model


def _unquote_hint(error: Any) -> str:
    """A number or boolean written in quotes is a string to YAML: say how to write it."""
    value = error.get("input")
    if not isinstance(value, str):
        return ""
    if error["type"] in ("int_type", "int_parsing") and re.fullmatch(r"-?\d+", value.strip()):
        return f"; write it as a YAML number, {value.strip()}, without quotes"
    if error["type"] in ("float_type", "float_parsing") and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
        return f"; write it as a YAML number, {value.strip()}, without quotes"
    if error["type"] in ("bool_type", "bool_parsing") and value.strip().lower() in ("true", "false"):
        return f"; write it as a YAML boolean, {value.strip().lower()}, without quotes"
    return ""


def _lookup(raw: dict[str, Any], location: list[str]) -> Any:
    value: Any = raw
    for part in location:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _show(value: Any) -> str:
    return "(unset)" if value is None else json.dumps(value)
