"""Every role and user the program creates carries the workload boundary, and stays within it.

The deployer policy refuses a role or user without docs/workload-boundary.json attached,
so one without it fails on a real `up`; one whose policy reaches past the boundary is
silently cut to it, and the workload fails at run time with AccessDenied.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from offline.engine import ACCOUNT_ID, ROOT, Recording
from tests.iam_policy import evaluate

BOUNDARY = json.loads((ROOT / "docs" / "workload-boundary.json").read_text())
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT_ID}:policy/mlops/mlops-workload-boundary"
RECORDINGS = ("dev", "prod", "prod_on_aws", "dev_cluster_training")
IDENTITIES = ("aws:iam/role:Role", "aws:iam/user:User")
# The actions of AmazonEC2ContainerServiceforEC2Role (AWS managed policy reference, version 8).
ECS_AGENT_ACTIONS = [
    "ec2:DescribeTags", "ecs:CreateCluster", "ecs:DeregisterContainerInstance", "ecs:DiscoverPollEndpoint",
    "ecs:Poll", "ecs:RegisterContainerInstance", "ecs:StartTelemetrySession", "ecs:UpdateContainerInstancesState",
    "ecs:Submit*", "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents", "ecs:TagResource",
]


def inline_allows(recording: Recording) -> list[tuple[str, str, str, dict[str, str]]]:
    """(policy resource name, action, resource, request context) for every Allow the program
    writes inline: one per value its StringEquals conditions admit (a request it allows carries
    one of them, and the boundary must allow that request too)."""
    found = []
    for reg in recording.of_type("aws:iam/rolePolicy:RolePolicy") + recording.of_type("aws:iam/userPolicy:UserPolicy"):
        for statement in json.loads(reg.inputs["policy"])["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            for action in _as_list(statement["Action"]):
                for resource in _as_list(statement["Resource"]):
                    found += [(reg.name, action, resource, context) for context in stated_contexts(statement)]
    return found


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


@pytest.mark.parametrize("stack", RECORDINGS)
def test_every_role_and_user_has_the_workload_boundary(request: pytest.FixtureRequest, stack: str) -> None:
    recording: Recording = request.getfixturevalue(stack)
    identities = [r for t in IDENTITIES for r in recording.of_type(t)]
    assert identities != []
    assert {r.name: r.inputs.get("permissionsBoundary") for r in identities} == {r.name: BOUNDARY_ARN for r in identities}


@pytest.mark.parametrize("stack", RECORDINGS)
def test_every_role_user_and_profile_lives_under_the_project_path(request: pytest.FixtureRequest, stack: str) -> None:
    # The deployer may touch only /mlops/; anything elsewhere fails with AccessDenied.
    recording: Recording = request.getfixturevalue(stack)
    kinds = (*IDENTITIES, "aws:iam/instanceProfile:InstanceProfile")
    paths = {r.name: r.inputs.get("path") for t in kinds for r in recording.of_type(t)}
    assert paths == {name: "/mlops/" for name in paths}


@pytest.mark.parametrize("stack", RECORDINGS)
def test_every_inline_grant_is_within_the_boundary(request: pytest.FixtureRequest, stack: str) -> None:
    recording: Recording = request.getfixturevalue(stack)
    outside = [
        (name, action, resource, context)
        for name, action, resource, context in inline_allows(recording)
        if evaluate(BOUNDARY, action, resource, {**context, **_key_tags(recording, resource)}) != "allow"
    ]
    assert outside == []


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
