"""offline/values.py: recorded inputs made fit to show (secrets redacted) and to compare (secrets revealed)."""

from __future__ import annotations

from typing import Any

import pytest

from offline.values import REDACTED, expand_documents, is_secret, json_document, redact, reveal, show

# How the SDK's mock engine hands a secret over (the Pulumi wire format's signature key and value).
SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "t0ken"}


def test_a_secret_is_recognised_by_the_wire_signature_only() -> None:
    # A wrong signature would show every secret in make plan and the PR comment.
    assert (is_secret(SECRET), is_secret({**SECRET, "4dabf18193072939515e22adb298388d": "x"}), is_secret({"value": "t0ken"}),
            is_secret("t0ken")) == (True, False, False, False)


def test_redact_hides_every_secret_however_deep_and_makes_numbers_plain() -> None:
    assert REDACTED == "[secret]"
    assert redact({"a": [SECRET, {"b": SECRET}], "n": 3.0, "f": 0.5, "s": "x"}) == {
        "a": ["[secret]", {"b": "[secret]"}], "n": 3, "f": 0.5, "s": "x"}


def test_reveal_unwraps_every_secret_for_comparing() -> None:
    nested = {**SECRET, "value": {"k": SECRET, "n": 2.0}}
    assert reveal({"a": [SECRET, nested], "n": 1.0, "f": 1.5}) == {"a": ["t0ken", {"k": "t0ken", "n": 2}], "n": 1, "f": 1.5}


DOCUMENTS: dict[str, tuple[Any, Any]] = {
    "object": ('{"a": 1}', {"a": 1}),
    "list": ("[1, 2]", [1, 2]),
    "not-json": ("{not json", None),
    "a-json-scalar-is-not-a-document": ("1", None),
    "a-quoted-string-is-not-a-document": ('"{}"', None),
    "plain-text": ("arn:aws:s3:::b", None),
    "empty": ("", None),
    "not-a-string": ({"a": 1}, None),
}


@pytest.mark.parametrize("case", DOCUMENTS)
def test_json_document_parses_only_an_object_or_a_list(case: str) -> None:
    text, expected = DOCUMENTS[case]
    assert json_document(text) == expected


def test_expand_documents_parses_documents_inside_documents() -> None:
    assert expand_documents({"p": '{"inner": "[1]"}', "l": ['{"a": 2}', "x"]}) == {"p": {"inner": [1]}, "l": [{"a": 2}, "x"]}


def test_show_keeps_strings_and_writes_anything_else_as_compact_sorted_json() -> None:
    assert (show("x"), show({"b": 1, "a": [True, None]}), show(3)) == ("x", '{"a":[true,null],"b":1}', "3")
