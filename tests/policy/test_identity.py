"""policy/rules/identity.py: each IAM rule on compliant and non-compliant inputs."""

from __future__ import annotations

from tests.policy.support import ATTACHMENT, ROLE, ROLE_POLICY, TLS_ONLY, RuleCases, allow, document

STAR_ACTION = document(allow("*", "*"))

class TestIdentityRules(RuleCases):
    """Each IAM rule on the inputs it accepts and refuses, on each of its types, in each environment."""

    ACCEPTED = {
        "named-actions": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document(allow(["s3:GetObject"], "arn:aws:s3:::b/*"))}),
        "deny-with-wildcard-action": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document(TLS_ONLY)}),
        "scoped-resource": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow("s3:GetObject", "arn:aws:s3:::b/*"))}),
        "registry-login-on-star": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow("ecr:GetAuthorizationToken", "*"))}),
        "batch-describe-on-star": ("iam-no-wildcard-resource", ROLE_POLICY,
                                   {"policy": document(allow(["batch:DescribeJobs", "batch:DescribeJobDefinitions"], "*"))}),
        "scoped-managed-policy": ("iam-no-admin-policy", ATTACHMENT, {"policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}),
    }

    REJECTED = {
        "star-action": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document(allow("*", "arn:aws:s3:::b"))}),
        "service-star-action": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document(allow("s3:*", "arn:aws:s3:::b"))}),
        "inline-role-policy-star-action": ("iam-no-wildcard-action", ROLE, {"inlinePolicies": [{"name": "p", "policy": document(allow("*", "arn:aws:s3:::b"))}]}),
        "star-resource": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow("s3:GetObject", "*"))}),
        "batch-describe-with-terminate-on-star": ("iam-no-wildcard-resource", ROLE_POLICY,
                                                  {"policy": document(allow(["batch:DescribeJobs", "batch:TerminateJob"], "*"))}),
        "registry-login-with-pull-on-star": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "*"))}),
        "administrator-access": ("iam-no-admin-policy", ATTACHMENT, {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    }

    REJECTED_ON_EVERY_TYPE = {
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

    VALUE_CASES = {
        "not-action": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"})}, False),
        "not-resource": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b"})}, False),
        "star-resource-without-actions": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document({"Effect": "Allow", "Resource": "*"})}, False),
        "star-resource-in-a-list": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow("s3:GetObject", ["arn:aws:s3:::b", "*"]))}, False),
        **{f"admin-policy-{name}": ("iam-no-admin-policy", ATTACHMENT, {"policyArn": f"arn:aws:iam::aws:policy/{name}"}, False)
           for name in ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")},
        "admin-like-name-in-a-path": ("iam-no-admin-policy", ATTACHMENT, {"policyArn": "arn:aws:iam::1:policy/AdministratorAccess/scoped"}, True),
    }
