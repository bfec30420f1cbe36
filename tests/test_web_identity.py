"""Keyless S3 access from GKE pods: AWS trusts the cluster's issuer, each role one ServiceAccount."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.web_identity import (
    AUDIENCE,
    TOKEN_FILE,
    issuer_host_path,
    pod_identity,
    web_identity_trust,
)
from offline.engine import ACCOUNT_ID, ROOT, Recording, Registration
from tests.support import RunWith

OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PROJECT = "mlops-prod-123456"
ISSUER_HOST_PATH = f"container.googleapis.com/v1/projects/{PROJECT}/locations/us-central1-a/clusters/mlops-prod"


def role(recording: Recording, workload: str) -> Registration:
    return recording.get(ROLE, f"{workload}-identity-role")


def trust(recording: Recording, workload: str) -> dict[str, Any]:
    return json.loads(role(recording, workload).inputs["assumeRolePolicy"])


def statements(recording: Recording, workload: str) -> dict[str, dict[str, Any]]:
    policy = json.loads(recording.get(ROLE_POLICY, f"{workload}-identity-policy").inputs["policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


def test_oidc_provider_trusts_the_cluster_issuer_for_one_audience(prod: Recording) -> None:
    provider = prod.one(OIDC)
    assert provider.inputs["url"] == prod.outputs["clusterIssuer"] == f"https://{ISSUER_HOST_PATH}"
    assert provider.inputs["clientIdLists"] == [AUDIENCE]


@pytest.mark.parametrize(("workload", "service_account"), [("serving", "model-server"), ("training", "train")])
def test_role_is_assumable_only_by_its_service_account(prod: Recording, workload: str, service_account: str) -> None:
    assert trust(prod, workload) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyThisServiceAccount",
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{ISSUER_HOST_PATH}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{ISSUER_HOST_PATH}:aud": "sts.amazonaws.com",
                        f"{ISSUER_HOST_PATH}:sub": f"system:serviceaccount:mlops-prod:{service_account}",
                    }
                },
            }
        ],
    }


def test_role_arns_are_outputs(prod: Recording) -> None:
    assert prod.outputs["servingRoleArn"] == role(prod, "serving").state["arn"]
    assert prod.outputs["trainingRoleArn"] == role(prod, "training").state["arn"]
    assert prod.outputs["servingRoleArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/mlops-prod-model-server"


def test_serving_reads_only_its_model_prefix(prod: Recording) -> None:
    bucket = prod.outputs["bucketArn"]
    found = statements(prod, "serving")
    assert set(found) == {"ListModelPrefix", "ReadModel", "UseBucketKeyThroughS3"}
    assert found["ReadModel"]["Action"] == "s3:GetObject"
    assert found["ReadModel"]["Resource"] == f"{bucket}/models/iris/*"
    assert found["ListModelPrefix"]["Condition"] == {"StringLike": {"s3:prefix": ["models/iris/", "models/iris/*"]}}
    assert found["UseBucketKeyThroughS3"]["Action"] == ["kms:Decrypt"]


def test_training_reads_its_data_and_writes_only_models(prod: Recording) -> None:
    bucket = prod.outputs["bucketArn"]
    found = statements(prod, "training")
    assert found["ReadData"] == {
        "Sid": "ReadData", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": [f"{bucket}/datasets/iris.csv"],
    }
    assert found["WriteModels"]["Action"] == "s3:PutObject"
    assert found["WriteModels"]["Resource"] == f"{bucket}/models/iris/*"
    assert found["UseBucketKeyThroughS3"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert found["UseBucketKeyThroughS3"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


@pytest.mark.parametrize("stack", ["prod"])
def test_no_static_aws_key_exists_in_a_gke_stack(request: pytest.FixtureRequest, stack: str) -> None:
    recording: Recording = request.getfixturevalue(stack)
    assert recording.of_type("aws:iam/accessKey:AccessKey") == []
    assert recording.of_type("aws:iam/user:User") == []
    text = json.dumps([r.inputs for r in recording.resources])
    assert "AWS_SECRET_ACCESS_KEY" not in text and "AWS_ACCESS_KEY_ID" not in text


def identity() -> Any:
    return pod_identity(pulumi.Output.from_input("arn:aws:iam::123456789012:role/mlops/x"), region="us-east-1")


def env_names(value: Any) -> list[str]:
    return [pulumi.get(env, "name") for env in value.env]


def test_pod_gets_the_role_and_token_env_boto3_reads() -> None:
    assert env_names(identity()) == ["AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_DEFAULT_REGION", "AWS_STS_REGIONAL_ENDPOINTS"]
    token_file = next(pulumi.get(e, "value") for e in identity().env if pulumi.get(e, "name") == "AWS_WEB_IDENTITY_TOKEN_FILE")
    assert token_file == TOKEN_FILE


def test_pod_gets_no_static_key() -> None:
    assert not [name for name in env_names(identity()) if name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SHARED_CREDENTIALS_FILE")]


def test_token_is_projected_for_sts_and_expires() -> None:
    [volume] = identity().volumes
    [source] = pulumi.get(pulumi.get(volume, "projected"), "sources")
    token = pulumi.get(source, "service_account_token")
    assert pulumi.get(token, "audience") == "sts.amazonaws.com"
    assert pulumi.get(token, "expiration_seconds") == 3600
    assert pulumi.get(token, "path") == "token"


def test_token_is_mounted_read_only_where_the_env_points() -> None:
    [mount] = identity().volume_mounts
    assert pulumi.get(mount, "read_only") is True
    assert TOKEN_FILE == f"{pulumi.get(mount, 'mount_path')}/token"
    assert pulumi.get(mount, "name") == pulumi.get(identity().volumes[0], "name")


def test_the_api_token_is_not_mounted() -> None:
    assert identity().mount_service_account_token is False


def test_trust_policy_pins_audience_and_subject() -> None:
    policy = json.loads(
        web_identity_trust(
            provider_arn="arn:aws:iam::1:oidc-provider/issuer.example/c",
            issuer_url="https://issuer.example/c",
            namespace="ns",
            service_account="sa",
        )
    )
    [statement] = policy["Statement"]
    assert statement["Condition"] == {"StringEquals": {"issuer.example/c:aud": "sts.amazonaws.com", "issuer.example/c:sub": "system:serviceaccount:ns:sa"}}


def test_an_issuer_must_be_https() -> None:
    with pytest.raises(ValueError, match="https"):
        issuer_host_path("http://issuer.example")


def test_deployer_policy_may_manage_only_gke_issuer_providers(prod: Recording) -> None:
    policy = json.loads((ROOT / "docs" / "deployer-policy.json").read_text())
    [statement] = [s for s in policy["Statement"] if "iam:CreateOpenIDConnectProvider" in s["Action"]]
    assert statement["Resource"] == "arn:aws:iam::*:oidc-provider/container.googleapis.com/*"
    assert prod.one(OIDC).state["arn"].split(":oidc-provider/")[1].startswith("container.googleapis.com/")


def test_training_on_builtin_data_reads_nothing_from_the_bucket(run_with: RunWith) -> None:
    recording = run_with("prod", **{"mlops:training": {"data": "builtin:iris"}})
    assert set(statements(recording, "training")) == {"ListOwnPrefixes", "WriteModels", "UseBucketKeyThroughS3"}
