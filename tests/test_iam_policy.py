"""tests/iam_policy.py, the evaluator the deployer-policy test relies on, on its own."""

from __future__ import annotations

import pytest

from tests.iam_policy import evaluate, glob

BUCKET = "arn:aws:s3:::mlops-dev-data-1"


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: object, resource: object = "*", **condition: dict) -> dict:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return statement | ({"Condition": condition} if condition else {})


def test_action_wildcards_match_case_insensitively() -> None:
    doc = policy(allow("s3:Get*"))
    assert evaluate(doc, "s3:GetObject", BUCKET) == "allow"
    assert evaluate(doc, "S3:getobject", BUCKET) == "allow"
    assert evaluate(doc, "s3:PutObject", BUCKET) == "implicit-deny"


def test_resource_wildcards_span_slashes_and_are_case_sensitive() -> None:
    doc = policy(allow("iam:GetRole", "arn:aws:iam::*:role/mlops/*"))
    assert evaluate(doc, "iam:GetRole", "arn:aws:iam::1:role/mlops/a/b") == "allow"
    assert evaluate(doc, "iam:GetRole", "arn:aws:iam::1:role/MLOPS/a") == "implicit-deny"
    assert evaluate(doc, "iam:GetRole", "arn:aws:iam::1:role/other") == "implicit-deny"


def test_question_mark_is_one_character() -> None:
    assert glob("a?c", "abc") and not glob("a?c", "abbc")


def test_explicit_deny_wins_over_allow() -> None:
    doc = policy(allow("s3:*"), {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"})
    assert evaluate(doc, "s3:DeleteBucket", BUCKET) == "deny"
    assert evaluate(doc, "s3:PutObject", BUCKET) == "allow"


def test_not_resource_denies_everything_else() -> None:
    doc = policy(allow("ecr:BatchGetImage"), {"Effect": "Deny", "Action": "ecr:BatchGetImage", "NotResource": "arn:repo/a"})
    assert evaluate(doc, "ecr:BatchGetImage", "arn:repo/a") == "allow"
    assert evaluate(doc, "ecr:BatchGetImage", "arn:repo/b") == "deny"


def test_string_equals_needs_the_key_and_one_matching_value() -> None:
    doc = policy(allow("iam:PassRole", StringEquals={"iam:PassedToService": ["ec2.amazonaws.com", "s3.amazonaws.com"]}))
    assert evaluate(doc, "iam:PassRole", "r", {"iam:PassedToService": "s3.amazonaws.com"}) == "allow"
    assert evaluate(doc, "iam:PassRole", "r", {"iam:PassedToService": "lambda.amazonaws.com"}) == "implicit-deny"
    assert evaluate(doc, "iam:PassRole", "r", {}) == "implicit-deny"


def test_negated_operator_holds_when_the_key_is_absent() -> None:
    # AWS: StringNotLike on a missing key is true, so a Deny on "no boundary" catches "no boundary given".
    doc = policy(allow("iam:CreateRole"), {"Effect": "Deny", "Action": "iam:CreateRole", "Resource": "*",
                                          "Condition": {"StringNotLike": {"iam:PermissionsBoundary": "arn:*:b"}}})
    assert evaluate(doc, "iam:CreateRole", "r", {}) == "deny"
    assert evaluate(doc, "iam:CreateRole", "r", {"iam:PermissionsBoundary": "arn:x:b"}) == "allow"
    assert evaluate(doc, "iam:CreateRole", "r", {"iam:PermissionsBoundary": "arn:x:admin"}) == "deny"


def test_every_operator_and_key_of_a_statement_must_hold() -> None:
    doc = policy(allow("iam:AttachRolePolicy", StringLike={"iam:PermissionsBoundary": "arn:*:b"},
                       ArnEquals={"iam:PolicyARN": "arn:aws:iam::aws:policy/P"}))
    both = {"iam:PermissionsBoundary": "arn:1:b", "iam:PolicyARN": "arn:aws:iam::aws:policy/P"}
    assert evaluate(doc, "iam:AttachRolePolicy", "r", both) == "allow"
    assert evaluate(doc, "iam:AttachRolePolicy", "r", {**both, "iam:PolicyARN": "arn:aws:iam::aws:policy/Admin"}) == "implicit-deny"


def test_if_exists_and_null() -> None:
    doc = policy(allow("ec2:*", StringEqualsIfExists={"aws:RequestedRegion": "us-east-1"}))
    assert evaluate(doc, "ec2:RunInstances", "*", {}) == "allow"
    assert evaluate(doc, "ec2:RunInstances", "*", {"aws:RequestedRegion": "eu-west-1"}) == "implicit-deny"
    null = policy(allow("kms:CreateKey", Null={"aws:RequestTag/project": "false"}))
    assert evaluate(null, "kms:CreateKey", "*", {"aws:RequestTag/project": "x"}) == "allow"
    assert evaluate(null, "kms:CreateKey", "*", {}) == "implicit-deny"


def test_unsupported_operators_and_variables_raise_rather_than_guess() -> None:
    with pytest.raises(ValueError, match="NumericLessThan"):
        evaluate(policy(allow("s3:*", NumericLessThan={"s3:max-keys": "10"})), "s3:ListBucket", BUCKET, {"s3:max-keys": "5"})
    with pytest.raises(ValueError, match="variables"):
        evaluate(policy(allow("s3:*", "arn:aws:s3:::${aws:username}")), "s3:ListBucket", BUCKET)
