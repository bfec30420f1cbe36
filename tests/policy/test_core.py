"""policy/rules/core.py: the rule types, and which violations block."""

from __future__ import annotations

from policy.rules import Resource, ResourceView, Violation, mandatory


def test_only_mandatory_violations_block() -> None:
    blocking = Violation("a", "mandatory", "urn:a", "x")
    assert mandatory([Violation("b", "advisory", "urn:b", "y"), blocking]) == [blocking]


def test_a_resource_is_unprotected_and_unlinked_unless_told() -> None:
    resource: ResourceView = Resource("t", "r", "urn:r", {})
    assert (resource.protect, Resource("t", "r", "urn:r", {}).refs) == (False, None)
