"""policy/rules/inputs.py: reading inputs as the engine sends them, `requires`, and linking resources."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policy.rules import Context, Resource
from policy.rules.inputs import (
    document, falsy, get, is_everyone, items, pointed_at, preview_value, requires, statements, truthy,
)
from tests.policy.support import Recorded

NO_CONTEXT = Context(environment="dev")


def test_get_follows_keys_and_indexes_and_is_none_where_a_step_is_missing() -> None:
    data = {"a": [{"b": 1}, {"b": 2}]}
    assert (get(data, "a", -1, "b"), get(data, "a", 2, "b"), get(data, "x", "b"), get("text", 0)) == (2, None, None, None)


def test_items_reads_a_list_a_single_value_or_nothing() -> None:
    assert (items(None), items("one"), items(("a", "b"))) == ([], ["one"], ["a", "b"])


@pytest.mark.parametrize(("value", "is_true", "is_false"), [
    (True, True, False), ("TRUE", True, False), (False, False, True), ("false", False, True), (None, False, False), (1, False, False),
])
def test_flags_are_booleans_or_their_strings(value: Any, is_true: bool, is_false: bool) -> None:
    assert (truthy(value), falsy(value)) == (is_true, is_false)


def test_a_policy_document_is_read_from_json_or_an_object() -> None:
    statement = {"Effect": "Deny"}
    assert statements(document('{"Statement": {"Effect": "Deny"}}')) == [statement]
    assert (document(" "), document("[1]"), document(None), statements(document({"Statement": [statement, "x"]}))) == (
        {}, {}, {}, [statement])


def test_everyone_is_star_alone_or_in_a_principal_map() -> None:
    assert [is_everyone(p) for p in ("*", {"AWS": "*"}, {"AWS": ["arn:1", "*"]}, {"AWS": "arn:1"}, ["*"])] == [
        True, True, True, False, False]


def test_requires_passes_the_value_at_its_path_and_names_it_when_it_fails() -> None:
    check = requires(("spec", "mode"), lambda mode: mode == "strict", "mode is {value!r}; set strict")
    assert check({"spec": {"mode": "strict"}}, NO_CONTEXT) is None
    assert check({"spec": {"mode": "loose"}}, NO_CONTEXT) == "mode is 'loose'; set strict"
    assert check({}, NO_CONTEXT) == "mode is None; set strict"


def test_a_value_unknown_in_a_preview_reads_as_none() -> None:
    resource = Resource("t", "r", "urn:r", unknown_checking_proxy({"bucket": UNKNOWN_STRING_VALUE, "name": "n"}))
    assert (preview_value(resource, "bucket"), preview_value(resource, "name")) == (None, "n")



def test_a_resource_points_at_its_targets_by_dependency_before_value() -> None:
    by_id = Recorded("t", "first", "urn:first", {}, state={})
    by_arn = Recorded("t", "second", "urn:second", {}, state={"arn": "arn:second"})
    linked = Resource("s", "s", "urn:s", {}, refs={"bucket": frozenset({"urn:second"})})
    unlinked = Resource("s", "s", "urn:s", {})
    assert pointed_at(linked, "bucket", lambda: ["first"], [by_id, by_arn]) == [by_arn]
    assert pointed_at(unlinked, "bucket", lambda: ["first", "arn:second", 3], [by_id, by_arn]) == [by_id, by_arn]


def test_a_value_that_cannot_be_read_links_nothing() -> None:
    def unknown() -> list[Any]:
        raise RuntimeError("unknown during a preview")

    assert pointed_at(Resource("s", "s", "urn:s", {}), "bucket", unknown, [Recorded("t", "a", "urn:a", {}, {})]) == []
