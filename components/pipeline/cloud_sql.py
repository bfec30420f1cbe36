"""Stand-in for p18-backends' Cloud SQL database (components/pipeline/cloud_sql.py on its branch),
with its signature, so that the GKE path runs until that branch lands; this commit is reverted then."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from components.config import DatabaseConfig
from components.pipeline.database import MetadataDatabase


def cloud_sql_database(
    name: str,
    *,
    database: DatabaseConfig,
    gcp_project: str,
    region: str,
    network: pulumi.Input[str],
    namespace: pulumi.Input[str],
    name_prefix: str,
    protect: bool,
    labels: Mapping[str, str],
    on_gcp: pulumi.ResourceOptions,
    on_cluster: pulumi.ResourceOptions,
) -> MetadataDatabase:
    del name, database, gcp_project, region, network, namespace, name_prefix, protect, labels, on_gcp, on_cluster
    return MetadataDatabase(
        chart_values={"postgresql": {"enabled": False}, "data": {"metadataSecretName": "airflow-metadata"}},
        egress=[
            k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                to=[k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr="10.40.0.0/20"))],
                ports=[k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=5432)],
            )
        ],
    )
