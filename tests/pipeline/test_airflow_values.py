"""The Airflow chart's values (components/pipeline/values.py): every key the chart's schema has, and the
ones that decide its security, its executor, its login, its logs and its image, exactly."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from components.pipeline.chart import FAB_AUTH_MANAGER, SIZES
from components.pipeline.spec import RUNTIME_ENV
from offline.engine import ROOT, Recording, run_program, stack_config_with
from tests.pipeline.airflow_support import env, release, values

SCHEMA = json.loads((ROOT / "tests" / "data" / "airflow" / "values.schema.json").read_text())
RUNS = ["dev", "prod", "dev_cluster_training", "prod_public_api"]
POD = {"runAsNonRoot": True, "runAsUser": 50000, "runAsGroup": 0, "fsGroup": 0, "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER = {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
             "seccompProfile": {"type": "RuntimeDefault"}}
SHARED_ACCOUNT = {"create": False, "name": "airflow"}


@pytest.fixture(scope="module")
def prod_public_api() -> Recording:
    """prod with `pipeline.publicApi: true`: the api-server behind a public load balancer."""
    return run_program("prod", stack_config_with("prod", {"mlops:pipeline": {"publicApi": True}}))


def schema_problems(document: dict[str, Any]) -> list[str]:
    """What the chart's schema refuses, and the top-level keys it does not know (Helm would ignore them)."""
    found = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(document)]
    return sorted(found) + [f"{key}: not a key of the chart" for key in sorted(set(document) - set(SCHEMA["properties"]))]


@pytest.mark.parametrize("run", RUNS)
def test_every_value_is_a_key_of_the_charts_schema(request: pytest.FixtureRequest, run: str) -> None:
    assert schema_problems(values(request.getfixturevalue(run))) == []


def test_the_schema_check_catches_a_misspelt_key_inside_a_section_and_at_the_top(dev: Recording) -> None:
    document = values(dev)
    document["scheduler"]["replica"] = 2
    document["executer"] = "KubernetesExecutor"
    assert schema_problems(document) == [
        "scheduler: Additional properties are not allowed ('replica' was unexpected)",
        "executer: not a key of the chart",
    ]


def test_the_release_is_the_pinned_official_chart(dev: Recording) -> None:
    inputs = release(dev).inputs
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"], inputs["name"]) == (
        "airflow", "1.18.0", {"repo": "https://airflow.apache.org"}, "airflow")
    assert (inputs["namespace"], inputs["atomic"], inputs["cleanupOnFail"], inputs["timeout"], inputs["maxHistory"]) == (
        "mlops-dev-airflow", True, True, 900, 10)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_airflow_3_with_the_kubernetes_executor(request: pytest.FixtureRequest, stack: str) -> None:
    chart = values(request.getfixturevalue(stack))
    assert (chart["airflowVersion"], chart["defaultAirflowTag"], chart["executor"]) == ("3.0.6", "3.0.6", "KubernetesExecutor")


@pytest.mark.parametrize("component", ["scheduler", "apiServer", "dagProcessor", "workers", "migrateDatabaseJob", "createUserJob"])
def test_every_component_is_restricted_sized_and_runs_as_the_one_service_account(dev: Recording, component: str) -> None:
    section = values(dev)[component]
    size = SIZES[component]
    assert section["securityContexts"] == {"pod": POD, "container": CONTAINER}
    assert section["resources"] == {"requests": {"cpu": size.cpu, "memory": size.memory}, "limits": {"cpu": size.cpu, "memory": size.memory}}
    assert section["serviceAccount"] == SHARED_ACCOUNT


def test_the_sidecars_and_init_containers_are_restricted_too(prod: Recording) -> None:
    chart = values(prod)
    for component in ("scheduler", "dagProcessor"):
        assert chart[component]["logGroomerSidecar"] == {
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "50m", "memory": "64Mi"}},
            "securityContexts": {"container": CONTAINER},
        }
    for component in ("scheduler", "apiServer", "dagProcessor"):
        assert chart[component]["waitForMigrations"] == {"securityContexts": {"container": CONTAINER}}
    assert chart["securityContexts"] == {"pod": POD, "container": CONTAINER}


def test_what_the_kubernetes_executor_does_not_need_is_off(prod: Recording) -> None:
    chart = values(prod)
    assert {name: chart[name] for name in ("triggerer", "redis", "flower", "statsd", "pgbouncer", "networkPolicies")} == {
        name: {"enabled": False} for name in ("triggerer", "redis", "flower", "statsd", "pgbouncer", "networkPolicies")
    }
    assert chart["dagProcessor"]["enabled"] is True


def test_the_dags_are_in_the_image_and_the_logs_in_s3(dev: Recording) -> None:
    chart = values(dev)
    assert chart["dags"] == {"persistence": {"enabled": False}, "gitSync": {"enabled": False}}
    assert chart["logs"] == {"persistence": {"enabled": False}}
    bucket = dev.outputs["bucketName"]
    assert chart["config"]["logging"] == {
        "remote_logging": "True",
        "remote_base_log_folder": f"s3://{bucket}/airflow/logs",
        "remote_log_conn_id": "aws_default",
        "encrypt_s3_logs": "False",
    }
    assert json.loads(env(dev)["AIRFLOW_CONN_AWS_DEFAULT"]) == {"conn_type": "aws", "extra": {"region_name": "us-east-1"}}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_login_is_the_fab_auth_managers_and_no_examples_load(request: pytest.FixtureRequest, stack: str) -> None:
    config = values(request.getfixturevalue(stack))["config"]
    assert config["core"] == {"auth_manager": FAB_AUTH_MANAGER, "load_examples": "False"}
    assert config["api"] == {"workers": "1"}


def test_the_admin_is_created_with_the_password_file_not_on_the_command_line(dev: Recording) -> None:
    job = values(dev)["createUserJob"]
    assert values(dev)["webserver"] == {"defaultUser": {"enabled": True}}
    assert job["args"] == [
        "bash", "-c",
        "exec airflow users create --role Admin --username admin --email admin@example.com --firstname Airflow "
        '--lastname Admin --password "$(cat /var/run/secrets/mlops/airflow-admin/password)"',
    ]
    assert job["extraVolumes"] == [{"name": "admin-password", "secret": {"secretName": "airflow-admin-password", "defaultMode": 0o440}}]
    assert job["extraVolumeMounts"] == [{"name": "admin-password", "mountPath": "/var/run/secrets/mlops/airflow-admin", "readOnly": True}]


def test_the_api_server_is_cluster_internal_unless_asked(prod: Recording, prod_public_api: Recording) -> None:
    assert values(prod)["apiServer"]["service"] == {"type": "ClusterIP"}
    assert values(prod_public_api)["apiServer"]["service"] == {"type": "LoadBalancer", "annotations": {"mlops/public-api": "true"}}


def test_the_secrets_are_the_programs_by_name(prod: Recording) -> None:
    chart = values(prod)
    assert (chart["fernetKeySecretName"], chart["apiSecretKeySecretName"], chart["jwtSecretName"]) == (
        "airflow-fernet-key", "airflow-api-secret-key", "airflow-jwt-secret")
    assert not {"fernetKey", "apiSecretKey", "jwtSecret", "webserverSecretKey"} & set(chart)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_image_is_the_dag_image_by_digest_and_its_content_tag(request: pytest.FixtureRequest, stack: str) -> None:
    recording: Recording = request.getfixturevalue(stack)
    image = values(recording)["images"]["airflow"]
    repository, digest = recording.outputs["imageRefs"]["pipeline"].split("@")
    tag = recording.get("docker-build:index:Image", "images-pipeline").inputs["buildArgs"]["IMAGE_TAG"]
    assert image == {"repository": repository, "tag": tag, "digest": digest, "pullPolicy": "IfNotPresent"}
    assert repository == recording.outputs["registryUrls"]["pipeline"]


def test_dev_pulls_with_the_namespaces_pull_secret_and_gke_nodes_pull_themselves(dev: Recording, prod: Recording) -> None:
    assert values(dev)["registry"] == {"secretName": "registry-pull"}
    assert "registry" not in values(prod)


def test_the_cloud_identity_reaches_every_airflow_container(dev: Recording, prod: Recording) -> None:
    # dev: the access key as a credentials file; GKE: the web identity token and role (no key).
    assert {k: v for k, v in env(dev).items() if k.startswith("AWS_")} == {
        "AWS_SHARED_CREDENTIALS_FILE": "/var/run/secrets/mlops/aws/credentials", "AWS_DEFAULT_REGION": "us-east-1"}
    assert values(dev)["volumes"] == [
        {"name": "aws-credentials", "secret": {"secretName": "airflow-identity-aws", "defaultMode": 0o440}}]
    assert values(dev)["volumeMounts"] == [
        {"name": "aws-credentials", "mountPath": "/var/run/secrets/mlops/aws", "readOnly": True}]
    assert {k: v for k, v in env(prod).items() if k.startswith("AWS_")} == {
        "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/mlops/mlops-prod-airflow",
        "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/sts.amazonaws.com/serviceaccount/token",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_STS_REGIONAL_ENDPOINTS": "regional",
    }
    [token] = values(prod)["volumes"]
    assert token["projected"]["sources"][0]["serviceAccountToken"] == {
        "path": "token", "expirationSeconds": 3600, "audience": "sts.amazonaws.com"}


def test_the_runtime_names_what_up_made(dev: Recording, prod: Recording) -> None:
    dev_runtime, prod_runtime = (json.loads(env(run)[RUNTIME_ENV]) for run in (dev, prod))
    assert {k: v for k, v in dev_runtime.items() if k != "projects"} == {
        "region": "us-east-1", "bucket": dev.outputs["bucketName"], "topic_arn": dev.outputs["notificationTopicArn"],
        "workloads_namespace": "mlops-dev", "job_queue": dev.get("aws:batch/jobQueue:JobQueue", "training-queue").state["arn"],
    }
    assert dev_runtime["projects"]["iris"] == {
        "image": dev.outputs["imageRefs"]["train"],
        "job_definition": dev.get("aws:batch/jobDefinition:JobDefinition", "training-iris-job").state["arn"],
        "serving_url": "http://iris-server.mlops-dev.svc.cluster.local:8080",
    }
    assert (prod_runtime["workloads_namespace"], prod_runtime["job_queue"]) == ("mlops-prod", None)
    assert prod_runtime["projects"]["iris"] == {
        "image": prod.outputs["imageRefs"]["train"],
        "cronjob": "iris-train",
        "serving_url": "http://iris-server.mlops-prod.svc.cluster.local:8080",
    }


def test_the_chart_labels_its_objects_as_the_platforms(dev: Recording) -> None:
    assert values(dev)["labels"] == {
        "app.kubernetes.io/name": "airflow", "app.kubernetes.io/instance": "mlops-dev-airflow", "app.kubernetes.io/part-of": "mlops"}
