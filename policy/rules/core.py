"""The rule types: what a rule sees of a resource, what it is, and what it reports.

Nothing here imports `pulumi_policy` or the Pulumi SDK: the rules see only mappings of
input properties, named as the engine names them (camelCase, e.g. `metadataOptions`),
which is what the mock engine records and what CrossGuard passes as `args.props`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Severity = Literal["mandatory", "advisory"]


class ResourceView(Protocol):
    """What a rule needs of a resource; the mock engine's `Registration` is one."""

    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def urn(self) -> str: ...
    @property
    def inputs(self) -> Mapping[str, Any]: ...
    @property
    def protect(self) -> bool: ...


@dataclass(frozen=True)
class Resource:
    """A concrete `ResourceView`. CrossGuard's stack validation builds these.

    `refs` maps an input property to the URNs of the resources its value came from (the
    engine's property dependencies). The stack rules use it to tie a bucket's settings to
    the bucket even while the bucket's name is unknown, during a preview. Without `refs`
    (offline), they match the value against the other resource's id or ARN instead.
    """

    type: str
    name: str
    urn: str
    inputs: Mapping[str, Any]
    protect: bool = False
    refs: Mapping[str, frozenset[str]] | None = None


@dataclass(frozen=True)
class Violation:
    rule: str
    severity: Severity
    urn: str
    message: str


@dataclass(frozen=True)
class Context:
    """What a check may know besides the inputs."""

    environment: str
    """The stack's `mlops:environment`: dev | prod."""
    type: str = ""
    """The resource's type token (resource rules)."""
    name: str = ""
    """The resource's logical name (resource rules)."""
    protect: bool = False
    """The resource's `protect` option (resource rules)."""


ResourceCheck = Callable[[Mapping[str, Any], Context], "str | None"]
"""Inputs -> None when compliant, else one message saying what is wrong and what to set."""

StackCheck = Callable[[Sequence[ResourceView], Context], Iterable[tuple[str, str]]]
"""All resources -> (urn, message) for each violation."""


@dataclass(frozen=True)
class ResourceRule:
    name: str
    description: str
    severity: Severity
    types: frozenset[str]
    check: ResourceCheck


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    severity: Severity
    check: StackCheck
    types: frozenset[str] = field(default_factory=frozenset)
    """Informational: the resource types the rule looks at."""


Rule = ResourceRule | StackRule


def mandatory(violations: Iterable[Violation]) -> list[Violation]:
    """The violations that block a `pulumi up`."""
    return [v for v in violations if v.severity == "mandatory"]
