"""Airflow's metadata database as the chart gets it: the bundled Postgres, pinned, on a cluster you bring
(components/pipeline/in_cluster_postgres.py); Cloud SQL on GKE, with the subchart off."""

from __future__ import annotations

from offline.engine import Recording
from tests.pipeline.airflow_support import values

RESTRICTED = {
    "enabled": True, "runAsUser": 1001, "runAsNonRoot": True, "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
}


def test_dev_runs_the_bundled_postgres_on_the_bitnamilegacy_image_of_the_same_tag(dev: Recording) -> None:
    # bitnami/postgresql:16.1.0-debian-11-r15 (the 1.18.0 subchart's default) is gone from Docker Hub.
    postgres = values(dev)["postgresql"]
    assert postgres["enabled"] is True
    assert postgres["image"] == {"registry": "docker.io", "repository": "bitnamilegacy/postgresql", "tag": "16.1.0-debian-11-r15"}


def test_the_bundled_postgres_is_restricted_small_and_reads_its_password_from_a_secret(dev: Recording) -> None:
    postgres = values(dev)["postgresql"]
    assert postgres["auth"] == {"enablePostgresUser": True, "existingSecret": "airflow-postgresql-auth"}
    assert postgres["primary"] == {
        "persistence": {"enabled": True, "size": "1Gi"},
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "250m", "memory": "256Mi"}},
        "podSecurityContext": {"enabled": True, "fsGroup": 1001, "seccompProfile": {"type": "RuntimeDefault"}},
        "containerSecurityContext": RESTRICTED,
    }


def test_airflow_reads_its_connection_from_the_programs_secret(dev: Recording, prod: Recording) -> None:
    assert values(dev)["data"] == {"metadataSecretName": "airflow-metadata-connection"}
    assert set(values(prod)["data"]) == {"metadataSecretName"}


def test_prod_keeps_no_database_on_the_cluster(prod: Recording) -> None:
    assert values(prod)["postgresql"] == {"enabled": False}
    assert not [r.name for r in prod.resources if r.type == "mlops:pipeline:InClusterPostgres"]
