"""The sample values the stack files ship with, to be replaced before a real deploy.

One list, read by `make plan` (offline/placeholders.py), which names each one still in a stack file.
"""

from __future__ import annotations

import ipaddress
from typing import Any

SAMPLE_GCP_PROJECT = "mlops-prod-123456"
DOCUMENTATION_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
"""RFC 5737's documentation ranges: no real machine has one of these addresses."""
EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")
"""RFC 2606's reserved domains: no mail sent to one reaches anybody."""


def placeholder(value: Any) -> str | None:
    """Why `value` is a sample to replace (the sample project id, a documentation range), else None."""
    if value == SAMPLE_GCP_PROJECT:
        return "the sample project id: use your Google Cloud project's id"
    if isinstance(value, str) and "@" in value and value.rpartition("@")[2] in EXAMPLE_DOMAINS:
        return "an example address (RFC 2606) that reaches nobody: use your on-call address"
    try:
        network = ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return None
    if any(network.version == 4 and network.subnet_of(doc) for doc in DOCUMENTATION_NETWORKS):  # type: ignore[arg-type]
        return "a documentation range (RFC 5737) that no real network uses: use your own CIDRs"
    return None
