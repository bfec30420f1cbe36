"""policy/rules/identity.py: each IAM rule on compliant and non-compliant inputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tests.policy.support import ATTACHMENT, PROD_ONLY, ROLE, ROLE_POLICY, TLS_ONLY, allow, document, violations_of

STAR_ACTION = document(allow("*", "*"))

# (rule, resource type, inputs) that the rule accepts, and that it rejects.
ACCEPTED: dict[str, tuple[str, str, Mapping[str, Any]]] = {
    "named-actions": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document(allow(["s3:GetObject"], "arn:aws:s3:::b/*"))}),
    "deny-with-wildcard-action": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document(TLS_ONLY)}),
    "scoped-resource": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow("s3:GetObject", "arn:aws:s3:::b/*"))}),
    "registry-login-on-star": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow("ecr:GetAuthorizationToken", "*"))}),
    "scoped-managed-policy": ("iam-no-admin-policy", ATTACHMENT, {"policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}),
}

REJECTED: dict[str, tuple[str, str, Mapping[str, Any]]] = {
    "star-action": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document(allow("*", "arn:aws:s3:::b"))}),
    "service-star-action": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document(allow("s3:*", "arn:aws:s3:::b"))}),
    "inline-role-policy-star-action": ("iam-no-wildcard-action", ROLE, {"inlinePolicies": [{"name": "p", "policy": document(allow("*", "arn:aws:s3:::b"))}]}),
    "star-resource": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow("s3:GetObject", "*"))}),
    "registry-login-with-pull-on-star": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "*"))}),
    "administrator-access": ("iam-no-admin-policy", ATTACHMENT, {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
}

# Cases whose rule applies in prod only, run with that environment.
PROD_ONLY_CASES: dict[str, str] = {}

# rule -> {type: inputs that break the rule on that type}: exactly the types the rule checks.
REJECTED_ON_EVERY_TYPE: dict[str, dict[str, Mapping[str, Any]]] = {
    "iam-no-wildcard-action": {
        **{t: {"policy": STAR_ACTION} for t in ("aws:iam/policy:Policy", ROLE_POLICY, "aws:iam/userPolicy:UserPolicy",
                                                 "aws:iam/groupPolicy:GroupPolicy")},
        ROLE: {"inlinePolicies": [{"name": "p", "policy": STAR_ACTION}]},
    },
    "iam-no-wildcard-resource": {
        **{t: {"policy": STAR_ACTION} for t in ("aws:iam/policy:Policy", ROLE_POLICY, "aws:iam/userPolicy:UserPolicy",
                                                 "aws:iam/groupPolicy:GroupPolicy")},
        ROLE: {"inlinePolicies": [{"name": "p", "policy": STAR_ACTION}]},
    },
    "iam-no-admin-policy": {t: {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"} for t in (
        ATTACHMENT, "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment")},
}
TYPE_CASES = [(rule, type_) for rule, by_type in REJECTED_ON_EVERY_TYPE.items() for type_ in by_type]

# (rule, type, inputs, accepted?) for each value a rule's lists hold.
VALUE_CASES: dict[str, tuple[str, str, Mapping[str, Any], bool]] = {
    "not-action": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"})}, False),
    "not-resource": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b"})}, False),
    "star-resource-without-actions": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document({"Effect": "Allow", "Resource": "*"})}, False),
    "star-resource-in-a-list": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow("s3:GetObject", ["arn:aws:s3:::b", "*"]))}, False),
    **{f"admin-policy-{name}": ("iam-no-admin-policy", ATTACHMENT, {"policyArn": f"arn:aws:iam::aws:policy/{name}"}, False)
       for name in ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")},
    "admin-like-name-in-a-path": ("iam-no-admin-policy", ATTACHMENT, {"policyArn": "arn:aws:iam::1:policy/AdministratorAccess/scoped"}, True),
}


@pytest.mark.parametrize("case", ACCEPTED)
def test_rule_accepts_compliant_input(case: str) -> None:
    rule, type_, inputs = ACCEPTED[case]
    assert violations_of(rule, type_, inputs) == []


@pytest.mark.parametrize("case", REJECTED)
def test_rule_rejects_noncompliant_input(case: str) -> None:
    rule, type_, inputs = REJECTED[case]
    found = violations_of(rule, type_, inputs, environment=PROD_ONLY_CASES.get(case, "dev"))
    assert len(found) == 1 and found[0].message


@pytest.mark.parametrize(("rule", "type_"), TYPE_CASES, ids=[f"{r}-{t.rsplit(':', 1)[-1]}" for r, t in TYPE_CASES])
def test_each_rule_checks_each_of_its_types(rule: str, type_: str) -> None:
    # A type the rule skips is a resource of that kind deployed unchecked (a V2 bucket, a CronJob's pods).
    [violation] = violations_of(rule, type_, REJECTED_ON_EVERY_TYPE[rule][type_], environment="prod")
    assert violation.rule == rule


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("rule", sorted(REJECTED_ON_EVERY_TYPE))
def test_each_resource_rule_applies_in_the_environments_it_names(rule: str, environment: str) -> None:
    type_, inputs = next(iter(REJECTED_ON_EVERY_TYPE[rule].items()))
    fires = bool(violations_of(rule, type_, inputs, environment=environment))
    assert fires == (environment == "prod" or rule not in PROD_ONLY)


@pytest.mark.parametrize("case", VALUE_CASES)
def test_each_value_a_rule_lists_is_accepted_or_refused(case: str) -> None:
    rule, type_, inputs, accepted = VALUE_CASES[case]
    assert (violations_of(rule, type_, inputs, environment="prod") == []) == accepted
