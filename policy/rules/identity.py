"""Rules that guard identity: IAM policies name their actions and resources; no admin grants."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from policy.rules.core import Context, ResourceCheck
from policy.rules.inputs import document, get, items, statements

POLICY_DOCUMENT = frozenset(
    {
        "aws:iam/policy:Policy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
        "aws:iam/role:Role",
    }
)
POLICY_ATTACHMENT = frozenset(
    {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
    }
)
# Actions AWS only grants on Resource "*": they have no resource-level permissions (the Service
# Authorization Reference lists no resource type for them: list_amazonelasticcontainerregistry,
# list_awsbatch). The pipeline follows its Batch jobs with the two Describe calls.
WILDCARD_RESOURCE_ACTIONS = frozenset({"ecr:GetAuthorizationToken", "batch:DescribeJobs", "batch:DescribeJobDefinitions"})
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


StatementProblem = Callable[[Mapping[str, Any], str], "str | None"]
"""(an Allow statement, its Sid) -> None when it is compliant, else what is wrong."""


def _allow_statements(inputs: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The Allow statements of a policy's document, or of a role's inline policies."""
    documents = [inputs.get("policy")] if "policy" in inputs else []
    documents += [get(inline, "policy") for inline in items(inputs.get("inlinePolicies"))]
    for policy in documents:
        if policy is None:
            continue
        for statement in statements(document(policy)):
            if statement.get("Effect") == "Allow":
                yield statement


def per_allow_statement(problem: StatementProblem) -> ResourceCheck:
    """A check that runs `problem(statement, sid)` on every Allow statement, and reports the first."""

    def check(inputs: Mapping[str, Any], _: Context) -> str | None:
        for statement in _allow_statements(inputs):
            found = problem(statement, statement.get("Sid", "(no Sid)"))
            if found:
                return found
        return None

    return check


def _named_actions(statement: Mapping[str, Any], sid: str) -> str | None:
    if "NotAction" in statement:
        return f"statement {sid} allows NotAction: everything but a list; name the actions instead"
    wild = [a for a in items(statement.get("Action")) if isinstance(a, str) and (a == "*" or a.endswith(":*"))]
    if wild:
        return f"statement {sid} allows {', '.join(wild)}; name the actions the workload calls"
    return None


def _named_resources(statement: Mapping[str, Any], sid: str) -> str | None:
    if "NotResource" in statement:
        return f"statement {sid} allows on NotResource; name the resources instead"
    if "*" not in items(statement.get("Resource")):
        return None
    actions = {a for a in items(statement.get("Action")) if isinstance(a, str)}
    others = sorted(actions - WILDCARD_RESOURCE_ACTIONS)
    if others or not actions:
        return f"statement {sid} allows {', '.join(others) or 'its actions'} on Resource *; scope it to ARNs"
    return None


check_iam_no_wildcard_action = per_allow_statement(_named_actions)
check_iam_no_wildcard_resource = per_allow_statement(_named_resources)


def check_iam_no_admin_policy(inputs: Mapping[str, Any], _: Context) -> str | None:
    arn = inputs.get("policyArn")
    if isinstance(arn, str) and arn.rsplit("/", 1)[-1] in ADMIN_POLICIES:
        return f"attaches {arn.rsplit('/', 1)[-1]}; grant a policy scoped to what the workload does"
    return None
