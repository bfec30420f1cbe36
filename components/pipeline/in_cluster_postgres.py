"""Airflow's metadata database on a kubeconfig cluster (dev): the chart's bundled Postgres, pinned.

The chart (1.18.0) bundles Bitnami's postgresql subchart 13.2.24, whose image tag
`bitnami/postgresql:16.1.0-debian-11-r15` is gone from Docker Hub since Bitnami moved its free
images to `bitnamilegacy` (apache/airflow#57328): left as it is, the database pod never pulls
and no Airflow pod starts. The image here is that same tag from `bitnamilegacy`, which is what
upstream chose (apache/airflow#61156: "use same bitnami postgres image as 1.18.0"). It gets no
security updates: it holds dev's scheduling state only, on a cluster you bring; prod's is Cloud SQL.

Its password is generated (pulumi_random) and reaches the database and Airflow through two
Secrets, never through the chart's values: the subchart's `auth.existingSecret`, and the
connection URL under `data.metadataSecretName`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.pipeline.chart import AIRFLOW_PODS, RELEASE, Size
from components.pipeline.database import MetadataDatabase

IMAGE = {"registry": "docker.io", "repository": "bitnamilegacy/postgresql", "tag": "16.1.0-debian-11-r15"}
PORT = 5432
SIZE = Size("250m", "256Mi")
DISK = "1Gi"
"""The PVC the subchart claims (the cluster's default storage class): a few days of scheduler state."""
UID = 1001
"""Bitnami's images run as this uid."""
PASSWORD_LENGTH = 32
POSTGRES_PODS = {"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": RELEASE}
"""The subchart's labels on its pod (bitnami common.labels.matchLabels)."""
HOST = f"{RELEASE}-postgresql"
"""The subchart's Service: `<release>-postgresql`."""
ADMIN_PASSWORD_KEY = "postgres-password"
"""The key bitnami's chart reads the `postgres` user's password from, in `auth.existingSecret`."""


def connection_url(password: str, namespace: str) -> str:
    """The SQLAlchemy URL Airflow reads from `data.metadataSecretName` (key `connection`)."""
    return f"postgresql://postgres:{password}@{HOST}.{namespace}:{PORT}/postgres?sslmode=disable"


def subchart_values(secret_name: pulumi.Input[str]) -> dict[str, object]:
    """The bundled subchart: pinned image, small PVC, restricted security contexts, password from a Secret."""
    restricted = {
        "enabled": True,
        "runAsUser": UID,
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    return {
        "enabled": True,
        "image": dict(IMAGE),
        "auth": {"enablePostgresUser": True, "existingSecret": secret_name},
        "primary": {
            "persistence": {"enabled": True, "size": DISK},
            "resources": SIZE.resources(),
            "podSecurityContext": {"enabled": True, "fsGroup": UID, "seccompProfile": {"type": "RuntimeDefault"}},
            "containerSecurityContext": restricted,
        },
    }


class InClusterPostgres(pulumi.ComponentResource):
    """The bundled Postgres's password, in the two Secrets that hand it on, and its NetworkPolicy
    (Airflow's pods in, on 5432). Airflow's egress to it is the database's `egress`."""

    database: MetadataDatabase

    def __init__(
        self, name: str, *, namespace: pulumi.Input[str], labels: Mapping[str, str], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlops:pipeline:InClusterPostgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        password = random.RandomPassword(f"{name}-password", length=PASSWORD_LENGTH, special=False, opts=child)
        auth = k8s.core.v1.Secret(
            f"{name}-auth",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{RELEASE}-postgresql-auth", namespace=namespace, labels=dict(labels)),
            type="Opaque",
            string_data={ADMIN_PASSWORD_KEY: pulumi.Output.secret(password.result)},
            opts=child,
        )
        url = pulumi.Output.all(password.result, namespace).apply(lambda values: connection_url(*values))
        connection = k8s.core.v1.Secret(
            f"{name}-connection",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{RELEASE}-metadata-connection", namespace=namespace, labels=dict(labels)),
            type="Opaque",
            string_data={"connection": pulumi.Output.secret(url)},
            opts=child,
        )
        port = [k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=PORT)]
        airflow = k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=AIRFLOW_PODS))
        k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="allow-database-ingress", namespace=namespace, labels=dict(labels)),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=POSTGRES_PODS),
                policy_types=["Ingress"],
                ingress=[k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=[airflow], ports=port)],
            ),
            opts=child,
        )
        postgres = k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=POSTGRES_PODS))
        self.database = MetadataDatabase(
            chart_values={
                "postgresql": subchart_values(auth.metadata.name),
                "data": {"metadataSecretName": connection.metadata.name},
            },
            egress=[k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=[postgres], ports=port)],
        )
        self.register_outputs({"connectionSecret": connection.metadata.name})


def in_cluster_postgres(
    name: str, *, namespace: pulumi.Input[str], labels: Mapping[str, str], opts: pulumi.ResourceOptions
) -> MetadataDatabase:
    """The chart's bundled Postgres, as Airflow's `MetadataDatabase`."""
    return InClusterPostgres(name, namespace=namespace, labels=labels, opts=opts).database
