"""Airflow's metadata database on GKE (components/pipeline/cloud_sql.py), as the program makes it for
prod's Airflow: private services access, the instance, its database, user and Secret."""

from __future__ import annotations

import ipaddress
from typing import Any

from components.gke.network import NODE_RANGE, POD_RANGE, SERVICE_RANGE
from offline.engine import MOCK_RANDOM_PASSWORD, Recording
from offline.prices import price
from offline.stack_cost import stack_cost
from offline.values import is_secret, reveal
from tests.pipeline.airflow_support import values
from tests.support import RunWith

INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
NETWORK = "projects/mlops-prod-123456/global/networks/mlops-prod"
PASSWORD = (MOCK_RANDOM_PASSWORD * 2)[:32]


def settings(run: Recording) -> dict[str, Any]:
    return run.one(INSTANCE).inputs["settings"]


def test_the_instance_is_postgres_16_in_the_clusters_region(prod: Recording) -> None:
    inputs = prod.one(INSTANCE).inputs
    assert (inputs["databaseVersion"], inputs["region"], inputs["project"]) == ("POSTGRES_16", "us-central1", "mlops-prod-123456")


def test_the_instance_has_only_a_private_ip_on_the_clusters_network_and_requires_tls(prod: Recording) -> None:
    assert settings(prod)["ipConfiguration"] == {
        "ipv4Enabled": False, "privateNetwork": NETWORK, "sslMode": "ENCRYPTED_ONLY",
    }


def test_the_tier_is_an_enterprise_zonal_one_with_a_growing_ssd(prod: Recording) -> None:
    # PostgreSQL 16 defaults to ENTERPRISE_PLUS, which refuses every db-custom and shared-core tier.
    picked = {k: settings(prod)[k] for k in ("tier", "edition", "availabilityType", "diskType", "diskSize", "diskAutoresize")}
    assert picked == {
        "tier": "db-custom-1-3840", "edition": "ENTERPRISE", "availabilityType": "ZONAL",
        "diskType": "PD_SSD", "diskSize": 10, "diskAutoresize": True,
    }


def test_daily_backups_and_point_in_time_recovery_follow_the_config(prod: Recording, run_with: RunWith) -> None:
    database = {"tier": "db-custom-2-7680", "diskGb": 20, "backupRetentionDays": 30, "pointInTimeRecoveryDays": 3}
    changed = run_with("prod", **{"mlops:pipeline": {"database": database}})
    expected = [
        {"enabled": True, "startTime": "01:00", "pointInTimeRecoveryEnabled": True, "transactionLogRetentionDays": days,
         "backupRetentionSettings": {"retainedBackups": kept, "retentionUnit": "COUNT"}}
        for kept, days in ((7, 7), (30, 3))
    ]
    assert [settings(run)["backupConfiguration"] for run in (prod, changed)] == expected
    assert (settings(changed)["tier"], settings(changed)["diskSize"]) == ("db-custom-2-7680", 20)


def test_maintenance_is_on_sunday_at_three_inside_the_clusters_weekend_window(prod: Recording) -> None:
    assert settings(prod)["maintenanceWindow"] == {"day": 7, "hour": 3, "updateTrack": "stable"}


def test_prod_protects_the_instance_three_ways(prod: Recording) -> None:
    instance = prod.one(INSTANCE)
    assert (instance.protect, instance.inputs["deletionProtection"], settings(prod)["deletionProtectionEnabled"]) == (
        True, True, True)


def test_teardown_lifts_every_protection(run_with: RunWith) -> None:
    # `make teardown`'s first step (an up with mlops:teardown) must leave the destroy nothing to refuse.
    run = run_with("prod", **{"mlops:teardown": "true"})
    instance = run.one(INSTANCE)
    assert (instance.protect, instance.inputs["deletionProtection"], settings(run)["deletionProtectionEnabled"]) == (
        False, False, False)


def test_the_disk_size_is_set_once_so_autoresize_never_plans_a_replacement(prod: Recording) -> None:
    assert prod.one(INSTANCE).ignore_changes == ("settings.diskSize",)


def test_the_labels_are_the_stacks_tags(prod: Recording) -> None:
    assert settings(prod)["userLabels"] == {
        "project": "mlops", "stack": "prod", "environment": "prod", "managed-by": "pulumi",
    }


def test_the_instance_name_is_the_stacks_with_a_random_suffix_renewed_with_region_or_project(prod: Recording) -> None:
    suffix = prod.named("airflow-database-name")
    assert suffix.inputs == {"byteLength": 2, "prefix": "mlops-prod-airflow-", "keepers": {"project": "mlops-prod-123456", "region": "us-central1"}}
    assert prod.one(INSTANCE).inputs["name"] == suffix.state["hex"]


def test_the_peering_range_is_a_private_20_clear_of_the_clusters_ranges(prod: Recording) -> None:
    address = prod.one("gcp:compute/globalAddress:GlobalAddress").inputs
    assert {k: address[k] for k in ("name", "network", "purpose", "addressType", "address", "prefixLength")} == {
        "name": "mlops-prod-google-services", "network": NETWORK, "purpose": "VPC_PEERING",
        "addressType": "INTERNAL", "address": "10.40.0.0", "prefixLength": 20,
    }
    peering = ipaddress.ip_network(f"{address['address']}/{int(address['prefixLength'])}")
    assert peering.is_private
    assert [r for r in (NODE_RANGE, POD_RANGE, SERVICE_RANGE) if peering.overlaps(ipaddress.ip_network(r))] == []


def test_the_connection_peers_the_network_through_the_range_and_never_blocks_teardown(prod: Recording) -> None:
    connection = prod.one("gcp:servicenetworking/connection:Connection").inputs
    assert connection == {
        "network": NETWORK,
        "service": "servicenetworking.googleapis.com",
        "reservedPeeringRanges": ["mlops-prod-google-services"],
        "deletionPolicy": "REMOVE_PEERING",
    }


def test_the_instance_waits_for_the_peering(prod: Recording) -> None:
    # Created before the peering exists, the instance fails: it has no network to take an address in.
    connection = prod.one("gcp:servicenetworking/connection:Connection")
    assert connection.urn in prod.one(INSTANCE).dependencies


def test_the_airflow_database_and_user_are_abandoned_with_the_instance(prod: Recording) -> None:
    database = prod.one("gcp:sql/database:Database").inputs
    user = prod.one("gcp:sql/user:User").inputs
    instance = prod.one(INSTANCE).state["name"]
    assert (database["name"], database["instance"], database["deletionPolicy"]) == ("airflow", instance, "ABANDON")
    assert (user["name"], user["instance"], user["deletionPolicy"]) == ("airflow", instance, "ABANDON")


def test_the_password_is_generated_letters_and_digits_and_kept_secret(prod: Recording) -> None:
    password = prod.named("airflow-database-password").inputs
    assert password == {"length": 32, "special": False}
    user = prod.one("gcp:sql/user:User").inputs
    assert is_secret(user["password"]) and reveal(user["password"]) == PASSWORD


def test_the_secret_holds_the_connection_url_in_airflows_namespace(prod: Recording) -> None:
    secret = prod.named("airflow-database-secret").inputs
    assert secret["metadata"] == {"name": "airflow-metadata", "namespace": "mlops-prod-airflow"}
    assert is_secret(secret["stringData"])
    assert reveal(secret["stringData"]) == {
        "connection": f"postgresql://airflow:{PASSWORD}@10.40.0.3:5432/airflow?sslmode=require"
    }


def test_the_chart_uses_the_secret_and_no_bundled_postgres(prod: Recording) -> None:
    chart = values(prod)
    assert {section: chart[section] for section in ("postgresql", "data")} == {
        "postgresql": {"enabled": False}, "data": {"metadataSecretName": "airflow-metadata"},
    }


def test_airflow_reaches_the_instance_on_its_address_and_port_only(prod: Recording) -> None:
    policy = prod.named("airflow-database-egress").inputs
    assert policy["spec"]["egress"] == [{"to": [{"ipBlock": {"cidr": "10.40.0.3/32"}}], "ports": [{"protocol": "TCP", "port": 5432}]}]


def test_a_kubeconfig_stack_makes_no_cloud_sql(dev: Recording) -> None:
    assert [r.type for r in dev.resources if r.type.startswith("gcp:")] == []


def test_make_cost_prices_the_instance_at_its_tier_and_disk(prod: Recording) -> None:
    # db-custom-1-3840: (1 x $0.0413 + 3.75 GB x $0.007) x 730 h + 10 GB x $0.17 = $51.01 a month.
    assert price(prod.one(INSTANCE)).monthly == 51.01
    assert stack_cost("prod", prod.resources).unpriced == []
