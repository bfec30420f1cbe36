"""Every role and user the program creates carries a boundary, and stays within it.

The deployer policy refuses a role or user without one of the two boundaries attached, so one
without fails on a real `up`; one whose policy reaches past its boundary is silently cut to it
(effective permissions are the policy intersected with the boundary), and the workload fails at
run time with AccessDenied. Workloads carry docs/workload-boundary.json; the two roles EKS Auto
Mode acts as (under /mlops/eks/) carry docs/eks-service-boundary.json, which allows what their AWS
managed policies do and no more.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from offline.engine import ACCOUNT_ID, ROOT, Recording, Registration
from tests.iam_policy import evaluate

BOUNDARY = json.loads((ROOT / "docs" / "workload-boundary.json").read_text())
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT_ID}:policy/mlops/mlops-workload-boundary"
EKS_BOUNDARY = json.loads((ROOT / "docs" / "eks-service-boundary.json").read_text())
EKS_BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT_ID}:policy/mlops/mlops-eks-service-boundary"
BOUNDARIES = {BOUNDARY_ARN: BOUNDARY, EKS_BOUNDARY_ARN: EKS_BOUNDARY}
RECORDINGS = ("dev", "prod", "prod_on_aws", "dev_cluster_training", "prod_aws")
IDENTITIES = ("aws:iam/role:Role", "aws:iam/user:User")
EKS_SERVICE_ROLES = {"eks-cluster-role", "eks-node-role"}
"""The roles EKS Auto Mode acts as (components/eks/roles.py), on prod-aws."""
AUTO_MODE = json.loads((ROOT / "tests" / "data" / "auto_mode_managed_policies.json").read_text())["policies"]
NODE_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/eks/mlops-prod-aws-eks-node"
# The actions of AmazonEC2ContainerServiceforEC2Role (AWS managed policy reference, version 8).
ECS_AGENT_ACTIONS = [
    "ec2:DescribeTags", "ecs:CreateCluster", "ecs:DeregisterContainerInstance", "ecs:DiscoverPollEndpoint",
    "ecs:Poll", "ecs:RegisterContainerInstance", "ecs:StartTelemetrySession", "ecs:UpdateContainerInstancesState",
    "ecs:Submit*", "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents", "ecs:TagResource",
]


def inline_allows(recording: Recording) -> list[tuple[str, str, str, dict[str, str], str]]:
    """(policy resource name, action, resource, request context, boundary ARN) for every Allow the
    program writes inline: one per value its StringEquals conditions admit (a request it allows
    carries one of them, and the boundary of the role or user it is written on must allow that
    request too)."""
    found = []
    for reg in recording.of_type("aws:iam/rolePolicy:RolePolicy") + recording.of_type("aws:iam/userPolicy:UserPolicy"):
        boundary = _boundary_of(recording, reg)
        for statement in json.loads(reg.inputs["policy"])["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            for action in _as_list(statement["Action"]):
                for resource in _as_list(statement["Resource"]):
                    found += [(reg.name, action, resource, context, boundary) for context in stated_contexts(statement)]
    return found


def _boundary_of(recording: Recording, policy: Registration) -> str:
    """The boundary of the role or user an inline policy is written on."""
    kind, name = ("aws:iam/role:Role", policy.inputs["role"]) if "role" in policy.inputs else ("aws:iam/user:User", policy.inputs["user"])
    [owner] = [r for r in recording.of_type(kind) if r.state["name"] == name]
    return owner.inputs["permissionsBoundary"]


def stated_contexts(statement: dict[str, Any]) -> list[dict[str, str]]:
    """Every request context a statement's StringEquals conditions admit ([{}] without any)."""
    equals = statement.get("Condition", {}).get("StringEquals", {})
    keys = sorted(equals)
    return [dict(zip(keys, values)) for values in itertools.product(*(_as_list(equals[k]) for k in keys))]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _key_tags(recording: Recording, resource: str) -> dict[str, str]:
    """The tags IAM sees on a KMS key: the provider's default tags (every key is the program's)."""
    if not resource.startswith("arn:aws:kms:"):
        return {}
    [key] = [k for k in recording.of_type("aws:kms/key:Key") if k.state["arn"] == resource]
    provider = next(r for r in recording.resources if key.provider.startswith(r.urn + "::"))
    return {f"aws:ResourceTag/{k}": v for k, v in json.loads(provider.inputs["defaultTags"])["tags"].items()}


def eks_service_roles(stack: str) -> set[str]:
    return EKS_SERVICE_ROLES if stack == "prod_aws" else set()


@pytest.mark.parametrize("stack", RECORDINGS)
def test_every_role_and_user_has_its_boundary(request: pytest.FixtureRequest, stack: str) -> None:
    # The workload boundary everywhere, but on the two roles Auto Mode acts as.
    recording: Recording = request.getfixturevalue(stack)
    identities = [r for t in IDENTITIES for r in recording.of_type(t)]
    assert identities != []
    assert {r.name: r.inputs.get("permissionsBoundary") for r in identities} == {
        r.name: EKS_BOUNDARY_ARN if r.name in eks_service_roles(stack) else BOUNDARY_ARN for r in identities
    }


@pytest.mark.parametrize("stack", RECORDINGS)
def test_every_role_user_and_profile_lives_under_the_project_path(request: pytest.FixtureRequest, stack: str) -> None:
    # The deployer may touch only /mlops/ (the EKS service boundary only under /mlops/eks/); anything
    # elsewhere fails with AccessDenied.
    recording: Recording = request.getfixturevalue(stack)
    kinds = (*IDENTITIES, "aws:iam/instanceProfile:InstanceProfile")
    paths = {r.name: r.inputs.get("path") for t in kinds for r in recording.of_type(t)}
    assert paths == {name: "/mlops/eks/" if name in eks_service_roles(stack) else "/mlops/" for name in paths}


@pytest.mark.parametrize("stack", RECORDINGS)
def test_every_inline_grant_is_within_its_boundary(request: pytest.FixtureRequest, stack: str) -> None:
    recording: Recording = request.getfixturevalue(stack)
    outside = [
        (name, action, resource, context)
        for name, action, resource, context, boundary in inline_allows(recording)
        if evaluate(BOUNDARIES[boundary], action, resource, {**context, **_key_tags(recording, resource)}) != "allow"
    ]
    assert outside == []


def test_the_secrets_key_grant_is_checked_against_the_eks_service_boundary(prod_aws: Recording) -> None:
    # The grant that failed under the workload boundary (kms:DescribeKey, kms:ListGrants) is in the check.
    grants = {(action, boundary) for name, action, _, _, boundary in inline_allows(prod_aws) if name == "eks-cluster-secrets-key"}
    assert grants == {(a, EKS_BOUNDARY_ARN) for a in ("kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants")}
    assert evaluate(BOUNDARY, "kms:ListGrants", "arn:aws:kms:us-east-1:1:key/k", {"aws:ResourceTag/project": "mlops"}) == "implicit-deny"


def test_the_attached_ecs_agent_policy_is_within_the_boundary(prod_on_aws: Recording) -> None:
    [attachment] = prod_on_aws.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
    # Its own resources are `*`; the boundary narrows ECR and logs to the project's, so check the project's.
    resources = {"ecr": f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/mlops-prod/train",
                 "logs": f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/batch/mlops-prod-train:log-stream:x"}
    refused = [a for a in ECS_AGENT_ACTIONS
               if evaluate(BOUNDARY, a.replace("*", "Foo"), resources.get(a.split(":")[0], "*")) != "allow"]
    assert refused == []


def test_the_boundary_grants_no_iam_and_no_writes_outside_the_project() -> None:
    assert evaluate(BOUNDARY, "iam:CreateRole", "*") == "implicit-deny"
    assert evaluate(BOUNDARY, "s3:PutObject", "arn:aws:s3:::someone-else/key") == "implicit-deny"
    assert evaluate(BOUNDARY, "kms:Decrypt", "arn:aws:kms:us-east-1:1:key/k", {"aws:ResourceTag/project": "x"}) == "implicit-deny"


# --- the EKS service boundary and the AWS managed policies of Auto Mode's two roles --------------


def test_the_two_roles_are_attached_exactly_the_policies_the_boundary_was_read_from(prod_aws: Recording) -> None:
    attached = {a.inputs["policyArn"].rsplit("/", 1)[-1] for a in prod_aws.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if a.name.startswith("eks-")}
    assert attached == set(AUTO_MODE)


# The resource each IAM action of those policies is called on by Auto Mode: the node role passed to EC2,
# the instance profile it makes for it, and the ELB and Spot service-linked roles.
IAM_CALLS = {
    "iam:PassRole": (NODE_ROLE, {"iam:PassedToService": "ec2.amazonaws.com"}),
    "iam:AddRoleToInstanceProfile": (f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/eks-us-east-1-mlops-prod-aws-1234", {}),
    "iam:CreateServiceLinkedRole": (
        f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot",
        {"iam:AWSServiceName": "spot.amazonaws.com"},
    ),
}


@pytest.mark.parametrize("policy", sorted(AUTO_MODE))
def test_every_action_of_the_auto_mode_policies_is_within_the_eks_service_boundary(policy: str) -> None:
    refused = []
    for action in AUTO_MODE[policy]["actions"]:
        resource, context = IAM_CALLS.get(action, ("*", {}))
        if evaluate(EKS_BOUNDARY, action, resource, context) != "allow":
            refused.append(action)
    assert refused == []


def test_the_workload_boundary_would_refuse_them() -> None:
    # Why Auto Mode's roles need a boundary of their own: the workload one cuts their policies to the
    # ECR login alone (it allows pulls from the project's repositories only, the rest not at all).
    actions = sorted({a for p in AUTO_MODE.values() for a in p["actions"]})
    assert [a for a in actions if evaluate(BOUNDARY, a, "*") == "allow"] == ["ecr:GetAuthorizationToken"]


def test_the_eks_service_boundary_passes_only_eks_path_roles_and_only_to_ec2() -> None:
    assert evaluate(EKS_BOUNDARY, "iam:PassRole", NODE_ROLE, {"iam:PassedToService": "ec2.amazonaws.com"}) == "allow"
    admin = f"arn:aws:iam::{ACCOUNT_ID}:role/OrganizationAccountAccessRole"
    assert evaluate(EKS_BOUNDARY, "iam:PassRole", admin, {"iam:PassedToService": "ec2.amazonaws.com"}) == "implicit-deny"
    workload = f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/mlops-prod-aws-airflow"
    assert evaluate(EKS_BOUNDARY, "iam:PassRole", workload, {"iam:PassedToService": "ec2.amazonaws.com"}) == "implicit-deny"
    assert evaluate(EKS_BOUNDARY, "iam:PassRole", NODE_ROLE, {"iam:PassedToService": "lambda.amazonaws.com"}) == "implicit-deny"


def test_the_eks_service_boundary_grants_no_iam_writes_no_data_and_no_other_keys() -> None:
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:CreatePolicyVersion", "iam:CreateAccessKey"):
        assert evaluate(EKS_BOUNDARY, action, "*") == "implicit-deny"
    assert evaluate(EKS_BOUNDARY, "iam:CreateServiceLinkedRole", "*", {"iam:AWSServiceName": "rds.amazonaws.com"}) == "implicit-deny"
    assert evaluate(EKS_BOUNDARY, "s3:GetObject", "arn:aws:s3:::mlops-prod-aws-data/models/iris/LATEST") == "implicit-deny"
    key = "arn:aws:kms:us-east-1:1:key/k"
    assert evaluate(EKS_BOUNDARY, "kms:Decrypt", key, {"aws:ResourceTag/project": "mlops"}) == "allow"
    assert evaluate(EKS_BOUNDARY, "kms:Decrypt", key, {"aws:ResourceTag/project": "x"}) == "implicit-deny"


@pytest.mark.parametrize("name", ["workload-boundary.json", "eks-service-boundary.json"])
def test_each_boundary_fits_a_managed_policy(name: str) -> None:
    # IAM refuses a managed policy over 6,144 characters, whitespace not counted.
    assert len(re.sub(r"\s", "", (ROOT / "docs" / name).read_text())) <= 6144
