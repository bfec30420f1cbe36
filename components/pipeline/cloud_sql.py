"""Airflow's metadata database on GKE stacks: Cloud SQL for PostgreSQL on a private IP in the
cluster's VPC, with daily backups and point-in-time recovery.

Private services access first: an internal range of the VPC reserved for Google's service
producers, and the peering (`servicenetworking.googleapis.com`) that puts the instance's
address in it. The pods reach that address directly (VPC peering carries the subnet's pod
range too), over TLS; nothing has a public address. The connection string reaches the chart
as a Kubernetes Secret in Airflow's namespace, never in the repository or the chart's values.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.config import DatabaseConfig
from components.pipeline.database import MetadataDatabase

POSTGRES_VERSION = "POSTGRES_16"
POSTGRES_PORT = 5432
DATABASE = "airflow"
USER = "airflow"
SECRET = "airflow-metadata"
SECRET_KEY = "connection"
"""The key the chart reads its metadata connection from (`data.metadataSecretName`)."""
PEERING_RANGE = "10.40.0.0"
PEERING_PREFIX_LENGTH = 20
"""10.40.0.0/20 for Google's producers: clear of the cluster's node, pod and service ranges
(components/gke/network.py), and room for many instances (Cloud SQL takes a /24 per region)."""
MAINTENANCE_DAY, MAINTENANCE_HOUR = 7, 3
"""Sunday 03:00-04:00 UTC, inside the cluster's weekend window (components/gke/control_plane.py)."""
BACKUP_START = "01:00"
"""UTC: the daily backup starts in the four hours from here (it takes no downtime), ahead of the
Sunday maintenance hour."""


class CloudSqlDatabase(pulumi.ComponentResource):
    """The peering range and connection, the instance, its `airflow` database and user, and the
    Secret that holds the connection string."""

    instance_name: pulumi.Output[str]
    """`<prefix>-airflow-<4 hex>`: a deleted instance's name cannot be reused for a week, so a
    stack made again after a teardown gets a new one."""
    private_ip: pulumi.Output[str]
    secret_name: pulumi.Output[str]

    def __init__(
        self,
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
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlops:pipeline:CloudSqlDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        connection = _private_services_access(name, project=gcp_project, network=network, name_prefix=name_prefix, child=child)
        suffix = random.RandomId(
            f"{name}-name",
            byte_length=2,
            prefix=f"{name_prefix}-airflow-",
            # A new name where a change replaces the instance (region and project are ForceNew),
            # so the new one can be created before the old one is deleted.
            keepers={"project": gcp_project, "region": region},
            opts=child,
        )
        instance = gcp.sql.DatabaseInstance(
            f"{name}-instance",
            name=suffix.hex,
            project=gcp_project,
            region=region,
            database_version=POSTGRES_VERSION,
            settings=_settings(database, network=network, protect=protect, labels=labels),
            deletion_protection=protect,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=protect,
                depends_on=[connection],
                # Autoresize grows the disk; a smaller diskGb than the grown one would make the
                # provider plan a replacement (ForceNewIfChange on a shrink), so the size is set once.
                ignore_changes=["settings.diskSize"],
            ),
        )
        password = random.RandomPassword(
            f"{name}-password",
            length=32,
            # Letters and digits only: the password goes into a URL unescaped.
            special=False,
            opts=child,
        )
        # Abandoned, not deleted, with the instance they live in: Postgres refuses to drop a
        # database still connected to, or a user that owns objects (the provider's own advice
        # for Postgres), and deleting the instance removes both anyway.
        gcp.sql.Database(
            f"{name}-database", name=DATABASE, instance=instance.name, project=gcp_project,
            deletion_policy="ABANDON", opts=child,
        )
        gcp.sql.User(
            f"{name}-user", name=USER, instance=instance.name, project=gcp_project,
            password=password.result, deletion_policy="ABANDON", opts=child,
        )
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SECRET, namespace=namespace),
            type="Opaque",
            string_data={SECRET_KEY: pulumi.Output.secret(connection_url(password.result, instance.private_ip_address))},
            opts=child,
        )
        self.instance_name = instance.name
        self.private_ip = instance.private_ip_address
        self.secret_name = secret.metadata.name
        self.register_outputs({"instanceName": self.instance_name, "privateIp": self.private_ip, "secretName": self.secret_name})


def connection_url(password: pulumi.Input[str], host: pulumi.Input[str]) -> pulumi.Output[str]:
    """SQLAlchemy's URL of the `airflow` database: TLS required (the instance refuses anything else)."""
    return pulumi.Output.format(
        "postgresql://{0}:{1}@{2}:{3}/{4}?sslmode=require", USER, password, host, POSTGRES_PORT, DATABASE
    )


def _private_services_access(
    name: str, *, project: str, network: pulumi.Input[str], name_prefix: str, child: pulumi.ResourceOptions
) -> gcp.servicenetworking.Connection:
    """The VPC's range for Google's service producers, and the peering that uses it."""
    peering_range = gcp.compute.GlobalAddress(
        f"{name}-peering-range",
        name=f"{name_prefix}-google-services",
        project=project,
        network=network,
        purpose="VPC_PEERING",
        address_type="INTERNAL",
        address=PEERING_RANGE,
        prefix_length=PEERING_PREFIX_LENGTH,
        description="Private services access: Cloud SQL's private IP (Airflow's metadata database)",
        opts=child,
    )
    return gcp.servicenetworking.Connection(
        f"{name}-peering",
        network=network,
        service="servicenetworking.googleapis.com",
        reserved_peering_ranges=[peering_range.name],
        # Cloud SQL keeps its producer resources for days after the instance is deleted, and the
        # API then refuses to delete the connection; REMOVE_PEERING removes the peering instead,
        # so the cluster's network can still be deleted (`make teardown`).
        deletion_policy="REMOVE_PEERING",
        opts=child,
    )


def _settings(
    database: DatabaseConfig, *, network: pulumi.Input[str], protect: bool, labels: Mapping[str, str]
) -> gcp.sql.DatabaseInstanceSettingsArgs:
    return gcp.sql.DatabaseInstanceSettingsArgs(
        tier=database.tier,
        # PostgreSQL 16 defaults to ENTERPRISE_PLUS, which takes none of the db-custom or shared-core tiers.
        edition="ENTERPRISE",
        # One zone: Airflow's scheduler retries its database, and a zone outage costs minutes of
        # scheduling, not data (backups and the write-ahead log are kept in other zones). REGIONAL
        # doubles the price for a standby (README "The pipeline's database").
        availability_type="ZONAL",
        disk_type="PD_SSD",
        disk_size=database.disk_gb,
        disk_autoresize=True,
        ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
            ipv4_enabled=False,
            private_network=network,
            ssl_mode="ENCRYPTED_ONLY",
        ),
        backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
            enabled=True,
            start_time=BACKUP_START,
            point_in_time_recovery_enabled=True,
            transaction_log_retention_days=database.point_in_time_recovery_days,
            backup_retention_settings=gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                retained_backups=database.backup_retention_days, retention_unit="COUNT"
            ),
        ),
        maintenance_window=gcp.sql.DatabaseInstanceSettingsMaintenanceWindowArgs(
            day=MAINTENANCE_DAY, hour=MAINTENANCE_HOUR, update_track="stable"
        ),
        # The API's own guard, beside the provider's deletion_protection: refuses a delete from
        # gcloud or the console too. `make teardown` lifts both with protect.
        deletion_protection_enabled=protect,
        user_labels=dict(labels),
    )


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
    """Cloud SQL next to GKE, as the chart and Airflow's NetworkPolicies take it."""
    sql = CloudSqlDatabase(
        name,
        database=database,
        gcp_project=gcp_project,
        region=region,
        network=network,
        namespace=namespace,
        name_prefix=name_prefix,
        protect=protect,
        labels=labels,
        opts=on_gcp.merge(on_cluster),
    )
    return MetadataDatabase(
        chart_values={"postgresql": {"enabled": False}, "data": {"metadataSecretName": sql.secret_name}},
        egress=[
            k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                to=[
                    k8s.networking.v1.NetworkPolicyPeerArgs(
                        ip_block=k8s.networking.v1.IPBlockArgs(cidr=pulumi.Output.concat(sql.private_ip, "/32"))
                    )
                ],
                ports=[k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=POSTGRES_PORT)],
            )
        ],
    )
