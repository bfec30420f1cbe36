"""Airflow's metadata database, as the chart and the NetworkPolicies see it.

Three implementations return a `MetadataDatabase`: `cloud_sql.cloud_sql_database` (Cloud SQL on a
private IP, next to GKE), `rds.rds_database` (RDS, next to EKS) and a small Postgres on a kubeconfig cluster. The Airflow component
takes whichever the stack has and never learns which.
"""

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
    """How Airflow's pods reach it (Cloud SQL: ipBlock <private ip>/32; RDS: the VPC's CIDR; TCP 5432)."""
