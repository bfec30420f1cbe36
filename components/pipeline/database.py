"""What the Airflow chart and its NetworkPolicies need of the metadata database, wherever it lives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class MetadataDatabase:
    """Where Airflow keeps its state, as the chart's values and the NetworkPolicies need it."""

    chart_values: Mapping[str, Any]
    """The chart's `postgresql` and `data` sections (Inputs allowed), e.g.
    {"postgresql": {"enabled": False}, "data": {"metadataSecretName": "<secret>"}}."""
    egress: Sequence[k8s.networking.v1.NetworkPolicyEgressRuleArgs]
    """How Airflow's pods reach it."""
