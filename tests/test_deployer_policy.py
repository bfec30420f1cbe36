"""docs/deployer-policy.json: the example policy for the deploying identity covers what the program does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline.engine import ROOT, Recording

POLICY = ROOT / "docs" / "deployer-policy.json"
# Provider module -> IAM service prefix, where they differ.
IAM_PREFIX = {"cloudwatch": "logs"}


def statements() -> list[dict[str, Any]]:
    return json.loads(POLICY.read_text())["Statement"]


def allowed_prefixes() -> set[str]:
    actions = [a for s in statements() if s["Effect"] == "Allow" for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    return {action.split(":")[0] for action in actions}


def trusted_services(recording: Recording) -> set[str]:
    services: set[str] = set()
    for role in recording.of_type("aws:iam/role:Role"):
        for statement in json.loads(role.inputs["assumeRolePolicy"])["Statement"]:
            service = statement.get("Principal", {}).get("Service")
            services |= {service} if isinstance(service, str) else set(service or [])
    return services


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_policy_covers_every_aws_service_the_program_uses(request: pytest.FixtureRequest, stack: str) -> None:
    recording: Recording = request.getfixturevalue(stack)
    modules = {r.type.split(":")[1].split("/")[0] for r in recording.resources if r.type.startswith("aws:")}
    needed = {IAM_PREFIX.get(module, module) for module in modules}
    assert needed - allowed_prefixes() == set()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_policy_may_pass_roles_to_every_service_that_assumes_one(request: pytest.FixtureRequest, stack: str) -> None:
    [pass_role] = [s for s in statements() if s["Action"] == "iam:PassRole"]
    passable = set(pass_role["Condition"]["StringEquals"]["iam:PassedToService"])
    assert trusted_services(request.getfixturevalue(stack)) - passable == set()
