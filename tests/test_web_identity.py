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
    return recording.get(ROLE, f"{workload}-iris-identity-role")


def trust(recording: Recording, workload: str) -> dict[str, Any]:
    return json.loads(role(recording, workload).inputs["assumeRolePolicy"])


def statements(recording: Recording, workload: str) -> dict[str, dict[str, Any]]:
    policy = json.loads(recording.get(ROLE_POLICY, f"{workload}-iris-identity-policy").inputs["policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


def test_oidc_provider_trusts_the_cluster_issuer_for_one_audience(prod: Recording) -> None:
    provider = prod.one(OIDC)
    assert provider.inputs["url"] == prod.outputs["clusterIssuer"] == f"https://{ISSUER_HOST_PATH}"
    assert provider.inputs["clientIdLists"] == [AUDIENCE]


@pytest.mark.parametrize(("workload", "service_account"), [("serving", "iris-server"), ("training", "iris-train")])
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
    assert prod.outputs["projects"]["iris"]["servingRoleArn"] == role(prod, "serving").state["arn"]
    assert prod.outputs["projects"]["iris"]["trainingRoleArn"] == role(prod, "training").state["arn"]
    assert prod.outputs["projects"]["iris"]["servingRoleArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/mlops-prod-iris-server"


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
    policy = web_identity_trust(
        provider_arn="arn:aws:iam::1:oidc-provider/issuer.example/c",
        issuer_url="https://issuer.example/c",
        namespace="ns",
        service_account="sa",
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
    recording = run_with("prod", **{"mlops:projects": {"iris": {"train": {"data": "builtin:iris"}}}})
    assert set(statements(recording, "training")) == {"ListOwnPrefixes", "WriteModels", "UseBucketKeyThroughS3"}


# --- Exact values of every deliberate setting (issue 14) -------------------------------------------

BOUNDARY = f"arn:aws:iam::{ACCOUNT_ID}:policy/mlops/mlops-workload-boundary"


@pytest.mark.parametrize("workload", ["serving", "training"])
def test_role_sessions_last_one_hour(prod: Recording, workload: str) -> None:
    # boto3 refreshes well within an hour; a 12-hour session keeps a leaked credential alive all day.
    assert role(prod, workload).inputs["maxSessionDuration"] == 3600


@pytest.mark.parametrize(("workload", "name"), [("serving", "mlops-prod-iris-server"), ("training", "mlops-prod-iris-train")])
def test_role_is_named_for_stack_and_service_account_under_the_mlops_path(prod: Recording, workload: str, name: str) -> None:
    # The deployer policy may manage only roles under /mlops/; names are unique per stack.
    inputs = role(prod, workload).inputs
    assert (inputs["name"], inputs["path"]) == (name, "/mlops/")


@pytest.mark.parametrize("workload", ["serving", "training"])
def test_role_is_capped_by_the_workload_boundary(prod: Recording, workload: str) -> None:
    # Without it the deployer could give a workload role more than the boundary allows.
    assert role(prod, workload).inputs["permissionsBoundary"] == BOUNDARY


@pytest.mark.parametrize("workload", ["serving", "training"])
def test_role_policy_is_attached_to_its_own_role(prod: Recording, workload: str) -> None:
    policy = prod.get(ROLE_POLICY, f"{workload}-iris-identity-policy")
    assert policy.inputs["role"] == role(prod, workload).id


@pytest.mark.parametrize("workload", ["serving", "training"])
def test_role_waits_for_the_oidc_provider(prod: Recording, workload: str) -> None:
    # IAM refuses a trust policy naming a provider that does not exist yet.
    assert prod.one(OIDC).urn in role(prod, workload).dependencies


@pytest.mark.parametrize(("workload", "component"), [("serving", "serving-iris"), ("training", "training-iris")])
def test_role_belongs_to_its_workload(prod: Recording, workload: str, component: str) -> None:
    # Under the workload's component, so its URN moves with the workload and not with the cluster.
    wrapper = prod.get("mlops:identity:WebIdentityRole", f"{workload}-iris-identity")
    assert role(prod, workload).parent == wrapper.urn
    assert prod.get(ROLE_POLICY, f"{workload}-iris-identity-policy").parent == wrapper.urn
    assert wrapper.parent == prod.named(component).urn


def test_oidc_provider_pins_no_thumbprint(prod: Recording) -> None:
    # IAM verifies Google's JWKS with its own trusted CAs; a pinned thumbprint breaks at Google's next rotation.
    provider = prod.one(OIDC)
    assert provider.inputs == {"url": f"https://{ISSUER_HOST_PATH}", "clientIdLists": ["sts.amazonaws.com"]}
    assert provider.parent == prod.get("mlops:identity:WebIdentityProvider", "gke-identity").urn


def test_oidc_provider_waits_for_the_cluster(prod: Recording) -> None:
    assert prod.one(OIDC).dependencies == (prod.one("gcp:container/cluster:Cluster").urn,)


def test_pod_env_is_exactly_what_boto3_reads() -> None:
    # AWS_DEFAULT_REGION (not AWS_REGION) is botocore's; regional STS keeps the exchange in the bucket's region.
    env = dict(identity_env(identity()))
    assert {k: v for k, v in env.items() if k != "AWS_ROLE_ARN"} == {
        "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/sts.amazonaws.com/serviceaccount/token",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_STS_REGIONAL_ENDPOINTS": "regional",
    }


def identity_env(access: Any) -> list[tuple[str, Any]]:
    return [(pulumi.get(e, "name"), pulumi.get(e, "value")) for e in access.env]


def test_token_volume_is_readable_by_owner_and_group_only() -> None:
    # 0440: the image's user reads it through fsGroup; 0644 would let any process in the pod read it.
    [volume] = identity().volumes
    assert pulumi.get(volume, "name") == "aws-web-identity-token"
    assert pulumi.get(pulumi.get(volume, "projected"), "default_mode") == 0o440


def test_token_is_mounted_at_the_sts_audience_directory() -> None:
    [mount] = identity().volume_mounts
    assert (pulumi.get(mount, "name"), pulumi.get(mount, "mount_path")) == (
        "aws-web-identity-token",
        "/var/run/secrets/sts.amazonaws.com/serviceaccount",
    )


def test_the_service_account_needs_no_annotation() -> None:
    # No EKS webhook on GKE: an annotation would do nothing, and suggest that it does.
    assert identity().service_account_annotations == {}


def test_issuer_condition_key_drops_scheme_and_trailing_slash() -> None:
    # IAM keys the conditions by host and path only; with the scheme or a slash no token would match.
    assert issuer_host_path("https://issuer.example/c/") == "issuer.example/c"


def test_pod_assumes_exactly_the_role_it_was_granted() -> None:
    # Another ARN (or none) and boto3 assumes a role whose trust names another ServiceAccount: AccessDenied.
    role_arn = pulumi.Output.from_input("arn:aws:iam::123456789012:role/mlops/x")
    [role_env] = [e for e in pod_identity(role_arn, region="us-east-1").env if pulumi.get(e, "name") == "AWS_ROLE_ARN"]
    assert pulumi.get(role_env, "value") is role_arn
