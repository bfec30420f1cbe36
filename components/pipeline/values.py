"""The values the official Airflow chart (1.18.0) is installed with: every key one its schema has.

Helm refuses an unknown key inside a section at install, and ignores a misspelt top-level one
silently; tests/pipeline/test_airflow_values.py validates these values against the chart's schema
(tests/data/airflow/). The security-relevant ones are set for every component explicitly, not left
to the chart's fallbacks: the chart's helper falls back to `securityContexts.containers` (plural),
not the `securityContexts.container` its schema documents, so a global container context alone
would not reach every container.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.identity import PodAccess
from components.pipeline.chart import (
    ADMIN_USER, ALWAYS_ON, EXECUTOR, FAB_AUTH_MANAGER, LOG_GROOMER, PUBLIC_API_ANNOTATION, SERVICE_ACCOUNT, SIZES,
)
from components.pipeline.database import MetadataDatabase
from components.pipeline.spec import AIRFLOW_VERSION, RUNTIME_ENV

AIRFLOW_UID = 50000
"""The apache/airflow image's user; its group is 0 (the image's files are group-0 writable)."""
POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": AIRFLOW_UID,
    "runAsGroup": 0,
    # Mounted Secrets (the AWS credentials file, the admin's password) are group-0 readable.
    "fsGroup": 0,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
LOGS_PREFIX = "airflow/logs"
AWS_CONNECTION = "aws_default"
ADMIN_SECRET_DIR = "/var/run/secrets/mlops/airflow-admin"
ADMIN_SECRET_VOLUME = "admin-password"
WITH_LOG_GROOMER = ("scheduler", "dagProcessor")
WITH_MIGRATION_WAIT = ("scheduler", "apiServer", "dagProcessor")


@dataclass(frozen=True)
class DagImage:
    """The DAG image as the chart takes it: repository, immutable content tag and digest."""

    repository: pulumi.Input[str]
    tag: str
    digest: pulumi.Input[str]


@dataclass(frozen=True)
class SecretNames:
    """The Kubernetes Secrets the chart reads (components/pipeline/secrets.py)."""

    fernet_key: pulumi.Input[str]
    api_secret_key: pulumi.Input[str]
    jwt: pulumi.Input[str]
    admin_password: pulumi.Input[str]


@dataclass(frozen=True)
class ChartInputs:
    image: DagImage
    pull_secret: pulumi.Input[str] | None
    """The namespace's image pull secret; None where the nodes pull themselves."""
    access: PodAccess
    """Airflow's cloud identity: its env, volumes and mounts go on every Airflow container."""
    secrets: SecretNames
    database: MetadataDatabase
    runtime: pulumi.Input[str]
    """MLOPS_PIPELINE_RUNTIME: components/pipeline/spec.runtime_json of the stack's runtime."""
    bucket_name: pulumi.Input[str]
    region: str
    public_api: bool
    labels: Mapping[str, str]


def component(name: str) -> dict[str, Any]:
    """A component's size (request = limit), its restricted security contexts and the shared ServiceAccount."""
    values: dict[str, Any] = {
        "resources": SIZES[name].resources(),
        "securityContexts": {"pod": dict(POD_SECURITY), "container": dict(CONTAINER_SECURITY)},
        "serviceAccount": {"create": False, "name": SERVICE_ACCOUNT},
    }
    if name in WITH_LOG_GROOMER:
        values["logGroomerSidecar"] = {
            "resources": LOG_GROOMER.resources(),
            "securityContexts": {"container": dict(CONTAINER_SECURITY)},
        }
    if name in WITH_MIGRATION_WAIT:
        values["waitForMigrations"] = {"securityContexts": {"container": dict(CONTAINER_SECURITY)}}
    return values


def create_user_job(admin_secret: pulumi.Input[str]) -> dict[str, Any]:
    """The admin user, made once (`airflow users create` leaves an existing user alone).

    The chart's own arguments would put the password on the command line, in the Job's spec;
    these read it from the Secret, mounted as a file.
    """
    command = (
        f"exec airflow users create --role Admin --username {ADMIN_USER} --email {ADMIN_USER}@example.com "
        f'--firstname Airflow --lastname Admin --password "$(cat {ADMIN_SECRET_DIR}/password)"'
    )
    return {
        **component("createUserJob"),
        "args": ["bash", "-c", command],
        "extraVolumes": [{"name": ADMIN_SECRET_VOLUME, "secret": {"secretName": admin_secret, "defaultMode": 0o440}}],
        "extraVolumeMounts": [{"name": ADMIN_SECRET_VOLUME, "mountPath": ADMIN_SECRET_DIR, "readOnly": True}],
    }


def airflow_config(bucket_name: pulumi.Input[str]) -> dict[str, Any]:
    """airflow.cfg: the FAB auth manager (a real login), no examples, task logs in the bucket."""
    return {
        "core": {"auth_manager": FAB_AUTH_MANAGER, "load_examples": "False"},
        # One uvicorn worker: Airflow 3.0's default of 4 quadruples the api-server's memory.
        "api": {"workers": "1"},
        "logging": {
            "remote_logging": "True",
            "remote_base_log_folder": pulumi.Output.concat("s3://", bucket_name, f"/{LOGS_PREFIX}"),
            "remote_log_conn_id": AWS_CONNECTION,
            # The bucket encrypts every object with its own key (SSE-KMS by default).
            "encrypt_s3_logs": "False",
        },
    }


def environment(access: PodAccess, *, region: str, runtime: pulumi.Input[str]) -> list[dict[str, Any]]:
    """Every Airflow container's env (the chart also hands it to each task pod): the identity's,
    the AWS connection (its region only: the identity is boto3's default credentials), the runtime."""
    identity = [{"name": env.name, "value": env.value} for env in access.env]
    connection = json.dumps({"conn_type": "aws", "extra": {"region_name": region}})
    return [
        *identity,
        {"name": f"AIRFLOW_CONN_{AWS_CONNECTION.upper()}", "value": connection},
        {"name": RUNTIME_ENV, "value": runtime},
    ]


def disabled(*sections: str) -> dict[str, Any]:
    return {section: {"enabled": False} for section in sections}


def chart_values(inputs: ChartInputs) -> dict[str, Any]:
    """The release's values."""
    image = inputs.image
    values: dict[str, Any] = {
        "airflowVersion": AIRFLOW_VERSION,
        "defaultAirflowTag": AIRFLOW_VERSION,
        "executor": EXECUTOR,
        "images": {
            # The components run it by digest; the task pods by its tag (the chart's
            # worker_container_tag), which the registry keeps immutable.
            "airflow": {"repository": image.repository, "tag": image.tag, "digest": image.digest, "pullPolicy": "IfNotPresent"}
        },
        "labels": dict(inputs.labels),
        "fernetKeySecretName": inputs.secrets.fernet_key,
        "apiSecretKeySecretName": inputs.secrets.api_secret_key,
        "jwtSecretName": inputs.secrets.jwt,
        "securityContexts": {"pod": dict(POD_SECURITY), "container": dict(CONTAINER_SECURITY)},
        **{name: component(name) for name in ALWAYS_ON},
        "workers": component("workers"),
        "migrateDatabaseJob": component("migrateDatabaseJob"),
        "createUserJob": create_user_job(inputs.secrets.admin_password),
        # The create-user Job renders only with this (chart 1.18.0 reads webserver.defaultUser);
        # its arguments above carry the user, so the chart's default password is never used.
        "webserver": {"defaultUser": {"enabled": True}},
        "config": airflow_config(inputs.bucket_name),
        "env": environment(inputs.access, region=inputs.region, runtime=inputs.runtime),
        "volumes": list(inputs.access.volumes),
        "volumeMounts": list(inputs.access.volume_mounts),
        # The DAGs are baked into the image; the task logs go to S3.
        "dags": {"persistence": {"enabled": False}, "gitSync": {"enabled": False}},
        "logs": {"persistence": {"enabled": False}},
        # KubernetesExecutor: no broker, no Celery; nothing defers, so no triggerer; no metrics exporter.
        **disabled("triggerer", "redis", "flower", "statsd", "pgbouncer"),
        # The namespace's own NetworkPolicies (components/pipeline/namespace.py) instead of the chart's.
        "networkPolicies": {"enabled": False},
        **dict(inputs.database.chart_values),
    }
    values["dagProcessor"]["enabled"] = True
    values["apiServer"]["service"] = (
        # A public load balancer (GKE's default kind), behind the FAB login; marked as asked for.
        {"type": "LoadBalancer", "annotations": {PUBLIC_API_ANNOTATION: "true"}} if inputs.public_api else {"type": "ClusterIP"}
    )
    if inputs.pull_secret is not None:
        values["registry"] = {"secretName": inputs.pull_secret}
    return values

