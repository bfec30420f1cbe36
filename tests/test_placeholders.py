"""offline/placeholders.py: each sample value still in a stack's config, named by its key path."""

from __future__ import annotations

import json

from offline.placeholders import placeholders
from offline.plan_text import render_placeholders


def test_placeholders_are_found_inside_every_documentation_range() -> None:
    from offline.engine import stack_config_with
    from offline.placeholders import placeholders

    config = stack_config_with("prod", {"mlops:gke": {
        "project": "acme-ml-prod", "authorizedNetworks": ["35.1.2.0/24", "198.51.100.7/32", "192.0.2.0/25"]}})
    assert [line.split("  (")[0] for line in placeholders(config)] == [
        "  mlops:gke.authorizedNetworks[1]: 198.51.100.7/32",
        "  mlops:gke.authorizedNetworks[2]: 192.0.2.0/25",
        "  mlops:monitoring.notify.emails[0]: ml-oncall@example.com",
    ]


def test_an_address_at_an_example_domain_is_a_placeholder_and_a_real_one_is_not() -> None:
    from components.config import placeholder

    reason = "an example address (RFC 2606) that reaches nobody: use your on-call address"
    assert [placeholder(f"oncall@{domain}") for domain in ("example.com", "example.net", "example.org")] == [reason] * 3
    assert [placeholder(address) for address in ("oncall@acme.com", "example.com", "oncall@example.com.au")] == [None] * 3


def test_each_placeholder_is_named_by_its_key_path() -> None:
    # Keys in the order the stack file writes them, stacks' top-level keys sorted; a non-JSON value is a plain string.
    config = {"mlops:gke": json.dumps({"project": "mlops-prod-123456", "nets": [{"cidr": "203.0.113.0/24"}]}),
              "mlops:plain": "192.0.2.1", "mlops:broken": "{not json", "mlops:fine": "35.1.2.3"}
    assert placeholders(config) == [
        "  mlops:gke.project: mlops-prod-123456  (the sample project id: use your Google Cloud project's id)",
        "  mlops:gke.nets[0].cidr: 203.0.113.0/24  (a documentation range (RFC 5737) that no real network uses: use your own CIDRs)",
        "  mlops:plain: 192.0.2.1  (a documentation range (RFC 5737) that no real network uses: use your own CIDRs)",
    ]
    assert render_placeholders(config).splitlines()[:3] == ["", "", "Still to replace before a real deploy:"]
    assert render_placeholders({"mlops:fine": "35.1.2.3"}) == ""
