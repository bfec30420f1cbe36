"""Airflow's one ServiceAccount and its cloud identity (components/pipeline/access.py): exactly the
pipeline's prefixes, the topic, and the roll-out's read of the model servers' endpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline.engine import Recording
from components.pipeline.spec import RUNTIME_ENV
from tests.manifests import manifest
from tests.pipeline.airflow_support import env


def policy(recording: Recording, type_: str) -> dict[str, Any]:
    return json.loads(recording.get(type_, "airflow-identity-policy").inputs["policy"])


def statements(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: {k: v for k, v in s.items() if k != "Sid"} for s in document["Statement"]}


def test_dev_gets_an_access_key_user_and_gke_a_role_for_the_airflow_service_account(dev: Recording, prod: Recording) -> None:
    assert dev.named("airflow-identity-user").inputs["name"] == "mlops-dev-airflow"
    role = prod.get("aws:iam/role:Role", "airflow-identity-role")
    [trust] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    [subject] = [v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert subject == "system:serviceaccount:mlops-prod-airflow:airflow"
    assert prod.outputs["airflowRoleArn"] == role.state["arn"]
    assert "airflowRoleArn" not in dev.outputs


def test_the_policy_is_the_pipelines_prefixes_the_bucket_key_and_the_topic(prod: Recording) -> None:
    bucket = prod.get("aws:s3/bucket:Bucket", "data").state["arn"]
    key = prod.get("aws:kms/key:Key", "data-key").state["arn"]
    topic = prod.outputs["notificationTopicArn"]
    topic_key = prod.get("aws:kms/key:Key", "notifications-key").state["arn"]
    assert statements(policy(prod, "aws:iam/rolePolicy:RolePolicy")) == {
        "ListPipelinePrefixes": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket,
                                 "Condition": {"StringLike": {"s3:prefix": ["airflow/logs/*", "models/*", "datasets/iris.csv"]}}},
        "TaskLogs": {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"{bucket}/airflow/logs/*"},
        "ReadModels": {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"{bucket}/models/*"},
        "PromoteModels": {"Effect": "Allow", "Action": "s3:PutObject", "Resource": [f"{bucket}/models/iris/LATEST"]},
        "ReadData": {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": [f"{bucket}/datasets/iris.csv"]},
        "UseBucketKeyThroughS3": {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key,
                                  "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}},
        "PublishToTopic": {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic},
        "UseTopicKeyThroughSns": {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": topic_key,
                                  "Condition": {"StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}}},
    }


def test_builtin_data_needs_no_read(dev: Recording) -> None:
    found = statements(policy(dev, "aws:iam/userPolicy:UserPolicy"))
    assert "ReadData" not in found
    assert found["ListPipelinePrefixes"]["Condition"] == {"StringLike": {"s3:prefix": ["airflow/logs/*", "models/*"]}}


def test_every_component_runs_as_the_one_service_account_with_the_api_token(dev: Recording, prod: Recording) -> None:
    for recording, namespace in ((dev, "mlops-dev-airflow"), (prod, "mlops-prod-airflow")):
        account = manifest(recording, "ServiceAccount", "airflow", namespace=namespace)
        # The scheduler starts task pods and the api-server reads their logs through the Kubernetes API.
        assert account["automountServiceAccountToken"] is True
        assert "annotations" not in account["metadata"]


@pytest.mark.parametrize(("stack", "workloads"), [("dev", "mlops-dev"), ("prod", "mlops-prod")])
def test_the_rollout_may_read_the_model_servers_endpoints_and_nothing_else(request: pytest.FixtureRequest, stack: str, workloads: str) -> None:
    recording: Recording = request.getfixturevalue(stack)
    role = manifest(recording, "Role", "airflow-rollout", namespace=workloads)
    assert role["rules"] == [{"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]}]
    binding = manifest(recording, "RoleBinding", "airflow-rollout", namespace=workloads)
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "airflow", "namespace": f"{workloads}-airflow"}]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "airflow-rollout"}


def test_a_public_servers_token_is_the_one_secret_the_rollout_may_read(prod_public: Recording) -> None:
    role = manifest(prod_public, "Role", "airflow-rollout", namespace="mlops-prod")
    assert role["rules"] == [
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["iris-server-token"]},
    ]
    runtime = json.loads(env(prod_public)[RUNTIME_ENV])
    assert runtime["projects"]["iris"]["serving_token_secret"] == "iris-server-token"
    assert manifest(prod_public, "Secret", "iris-server-token", namespace="mlops-prod")["type"] == "Opaque"
