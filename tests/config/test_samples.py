"""The sample values `make plan` names: the sample project id and the documentation ranges."""

from __future__ import annotations

import pytest

from components.config import placeholder


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("mlops-prod-123456", "the sample project id: use your Google Cloud project's id"),
        ("192.0.2.0/24", "a documentation range (RFC 5737) that no real network uses: use your own CIDRs"),
        ("198.51.100.0/24", "a documentation range (RFC 5737) that no real network uses: use your own CIDRs"),
        ("203.0.113.0/24", "a documentation range (RFC 5737) that no real network uses: use your own CIDRs"),
        ("203.0.113.8/29", "a documentation range (RFC 5737) that no real network uses: use your own CIDRs"),
        # Host bits set: still the documentation range, not a value to let through.
        ("203.0.113.7/24", "a documentation range (RFC 5737) that no real network uses: use your own CIDRs"),
        ("10.0.0.0/8", None),
        ("203.0.112.0/23", None),
        ("2001:db8::/32", None),
        ("my-project-42", None),
    ],
)
def test_placeholder_names_each_sample_value(value: str, why: str | None) -> None:
    # `make plan` names every sample still in a stack file; a missed one deploys to nowhere.
    assert placeholder(value) == why
