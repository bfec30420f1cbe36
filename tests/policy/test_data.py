"""policy/rules/data.py: each S3 and KMS rule on compliant and non-compliant inputs, the bucket guards and prod data."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from offline.engine import Recording
from policy.rules import Resource, evaluate, mandatory
from tests.policy.support import (
    BUCKET, BUCKET_ACL, BUCKET_ACL_V2, BUCKET_V2, KEY, OWNERSHIP, PAB, POLICY, SSE, SSE_V2, TLS_ONLY,
    VERSIONING, VERSIONING_V2, Recorded, RuleCases, allow, bucket_with_guards, document, stack_violations,
)

class TestDataRules(RuleCases):
    """Each S3 and KMS rule on the inputs it accepts and refuses, on each of its types, in each environment."""

    ACCEPTED = {
        "sse-kms": ("s3-encryption", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}, "bucketKeyEnabled": True}]}),
        "sse-s3": ("s3-encryption", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}),
        "bucket-key-with-kms": ("s3-bucket-key", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}, "bucketKeyEnabled": True}]}),
        "all-four-public-access-flags": ("s3-public-access-block", PAB, {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}),
        "deny-without-tls": ("s3-tls-only", POLICY, {"policy": document(TLS_ONLY)}),
        "policy-grants-a-service-with-condition": ("s3-no-public-policy", POLICY, {"policy": document(TLS_ONLY, {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"})}),
        "owner-enforced": ("s3-ownership-enforced", OWNERSHIP, {"rule": {"objectOwnership": "BucketOwnerEnforced"}}),
        "no-acl": ("s3-no-public-acl", BUCKET, {"bucketPrefix": "b-"}),
        "versioning-enabled": ("s3-versioning", VERSIONING, {"versioningConfiguration": {"status": "Enabled"}}),
        "rotated-key": ("kms-key-rotation", KEY, {"enableKeyRotation": True}),
        "asymmetric-key-without-rotation": ("kms-key-rotation", KEY, {"keySpec": "RSA_2048"}),
    }

    REJECTED = {
        "no-encryption-rule": ("s3-encryption", SSE, {"rules": []}),
        "unknown-algorithm": ("s3-encryption", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "none"}}]}),
        "kms-without-bucket-key": ("s3-bucket-key", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]}),
        "one-public-access-flag-off": ("s3-public-access-block", PAB, {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": False}),
        "no-tls-statement": ("s3-tls-only", POLICY, {"policy": document(allow("s3:GetObject", "arn:aws:s3:::b/*"))}),
        "tls-statement-for-one-principal": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Principal": {"AWS": "arn:aws:iam::1:root"}})}),
        "public-read-policy": ("s3-no-public-policy", POLICY, {"policy": document({"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})}),
        "acls-enabled": ("s3-ownership-enforced", OWNERSHIP, {"rule": {"objectOwnership": "ObjectWriter"}}),
        "public-read-acl": ("s3-no-public-acl", BUCKET, {"acl": "public-read"}),
        "versioning-suspended": ("s3-versioning", VERSIONING, {"versioningConfiguration": {"status": "Suspended"}}),
        "no-rotation": ("kms-key-rotation", KEY, {"enableKeyRotation": False}),
    }

    REJECTED_ON_EVERY_TYPE = {
        "s3-encryption": {SSE: {"rules": []}, SSE_V2: {"rules": []}},
        "s3-bucket-key": {t: {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]} for t in (SSE, SSE_V2)},
        "s3-public-access-block": {PAB: {}},
        "s3-tls-only": {POLICY: {"policy": document()}},
        "s3-no-public-policy": {POLICY: {"policy": document({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"})}},
        "s3-ownership-enforced": {OWNERSHIP: {"rule": {"objectOwnership": "ObjectWriter"}}},
        "s3-no-public-acl": {t: {"acl": "public-read"} for t in (BUCKET, BUCKET_V2, BUCKET_ACL, BUCKET_ACL_V2)},
        "s3-versioning": {VERSIONING: {}, VERSIONING_V2: {}},
        "kms-key-rotation": {KEY: {}},
    }

    VALUE_CASES = {
        **{f"sse-{a}": ("s3-encryption", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": a}}]}, True)
           for a in ("aws:kms", "aws:kms:dsse", "AES256")},
        "sse-missing": ("s3-encryption", SSE, {"rules": [{}]}, False),
        **{f"bucket-key-needed-for-{a}": ("s3-bucket-key", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": a}}]}, False)
           for a in ("aws:kms", "aws:kms:dsse")},
        "bucket-key-as-string": ("s3-bucket-key", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}, "bucketKeyEnabled": "true"}]}, True),
        "no-bucket-key-for-aes256": ("s3-bucket-key", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}, True),
        **{f"acl-{acl}": ("s3-no-public-acl", BUCKET, {"acl": acl}, False) for acl in ("public-read", "public-read-write", "authenticated-read")},
        "acl-private": ("s3-no-public-acl", BUCKET, {"acl": "private"}, True),
        **{f"public-access-flag-{flag}-off": ("s3-public-access-block", PAB, {**{f: True for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}, flag: False}, False)
           for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")},
        "public-access-flags-as-strings": ("s3-public-access-block", PAB, {f: "TRUE" for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}, True),
        "tls-deny-on-star-action": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Action": "*"})}, True),
        "tls-deny-on-action-list": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Action": ["s3:GetObject", "s3:*"]})}, True),
        "tls-deny-on-one-action": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Action": "s3:GetObject"})}, False),
        "tls-deny-to-aws-star": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Principal": {"AWS": "*"}})}, True),
        "tls-deny-to-aws-star-list": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Principal": {"AWS": ["*"]}})}, True),
        "tls-allow-is-no-deny": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Effect": "Allow"})}, False),
        "tls-condition-boolean": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Condition": {"Bool": {"aws:SecureTransport": False}}})}, True),
        "tls-condition-true-denies-tls": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Condition": {"Bool": {"aws:SecureTransport": "true"}}})}, False),
        "tls-policy-as-object": ("s3-tls-only", POLICY, {"policy": {"Statement": [TLS_ONLY]}}, True),
        "tls-policy-empty-string": ("s3-tls-only", POLICY, {"policy": ""}, False),
        "public-policy-with-condition": ("s3-no-public-policy", POLICY, {"policy": document({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Condition": {"StringEquals": {"aws:SourceAccount": "1"}}})}, True),
        "public-policy-deny": ("s3-no-public-policy", POLICY, {"policy": document({"Effect": "Deny", "Principal": "*", "Action": "s3:*"})}, True),
        "public-policy-aws-star": ("s3-no-public-policy", POLICY, {"policy": document({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject"})}, False),
        "ownership-missing": ("s3-ownership-enforced", OWNERSHIP, {}, False),
        "versioning-missing": ("s3-versioning", VERSIONING, {}, False),
        "rotation-as-string": ("kms-key-rotation", KEY, {"enableKeyRotation": "true"}, True),
        "symmetric-by-key-spec": ("kms-key-rotation", KEY, {"keySpec": "SYMMETRIC_DEFAULT"}, False),
        "asymmetric-by-master-key-spec": ("kms-key-rotation", KEY, {"customerMasterKeySpec": "ECC_NIST_P256"}, True),
    }


# --- stack rules: every bucket guarded, prod data protected ------------------------------


def test_bucket_with_every_guard_passes() -> None:
    assert stack_violations("s3-bucket-guarded", bucket_with_guards(), environment="dev") == []


@pytest.mark.parametrize("missing", [PAB, SSE, OWNERSHIP, POLICY, VERSIONING])
def test_bucket_missing_a_guard_is_a_mandatory_violation(missing: str) -> None:
    [violation] = stack_violations("s3-bucket-guarded", bucket_with_guards(skip=missing), environment="dev")
    assert violation.urn == "urn:bucket" and violation.severity == "mandatory"


def test_guards_link_to_their_bucket_by_dependency_when_the_name_is_unknown() -> None:
    # In a preview the bucket's name is not known yet; the engine's property dependencies still are.
    resources = [replace(r, inputs={k: v for k, v in r.inputs.items() if k != "bucket"}) for r in bucket_with_guards()]
    assert stack_violations("s3-bucket-guarded", resources, environment="dev") == []


def test_stack_rules_run_on_crossguard_props_with_unknown_values() -> None:
    # A real preview: CrossGuard's proxy raises on reading an unknown value (the bucket's
    # name, the key's ARN); the property dependencies must be enough to link them.
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    def unknown(inputs: Mapping[str, Any]) -> Mapping[str, Any]:
        text = json.dumps(inputs).replace('"urn:key"', json.dumps(UNKNOWN_STRING_VALUE))
        masked = {k: (UNKNOWN_STRING_VALUE if k == "bucket" else v) for k, v in json.loads(text).items()}
        return unknown_checking_proxy(masked)

    resources = [replace(r, inputs=unknown(r.inputs)) for r in bucket_with_guards(protect=False)]
    violations = [v for v in evaluate(resources, environment="prod") if v.rule in ("s3-bucket-guarded", "prod-data-protected")]
    assert sorted((v.rule, v.urn) for v in violations) == [
        ("prod-data-protected", "urn:bucket"),
        ("prod-data-protected", "urn:key"),
    ]


def test_protected_prod_bucket_and_key_pass() -> None:
    assert stack_violations("prod-data-protected", bucket_with_guards(), environment="prod") == []


def test_prod_bucket_without_protect_is_a_mandatory_violation() -> None:
    resources = [replace(r, protect=False) if r.type == BUCKET else r for r in bucket_with_guards()]
    [violation] = stack_violations("prod-data-protected", resources, environment="prod")
    assert (violation.urn, violation.severity) == ("urn:bucket", "mandatory")
    assert "teardown.json" in violation.message


def test_prod_bucket_key_without_protect_is_a_mandatory_violation() -> None:
    resources = [replace(r, protect=False) if r.type == KEY else r for r in bucket_with_guards()]
    [violation] = stack_violations("prod-data-protected", resources, environment="prod")
    assert violation.urn == "urn:key"


def test_prod_bucket_with_force_destroy_is_a_violation() -> None:
    violations = stack_violations("prod-data-protected", bucket_with_guards(force_destroy=True), environment="prod")
    assert [v.urn for v in violations] == ["urn:bucket"]


def test_dev_buckets_need_no_protection() -> None:
    resources = bucket_with_guards(protect=False, force_destroy=True)
    assert stack_violations("prod-data-protected", resources, environment="dev") == []


def test_prod_stack_with_an_unprotected_bucket_is_blocked(prod: Recording) -> None:
    data = prod.get(BUCKET, "data")
    resources = [replace(r, protect=False) if r is data else r for r in prod.resources]
    violations = mandatory(evaluate(resources, environment="prod"))
    assert [(v.rule, v.urn) for v in violations] == [("prod-data-protected", data.urn)]


def test_prod_data_keys_are_found_from_the_recording(prod: Recording) -> None:
    # The recorded SSE configuration names its key by ARN; the rule must follow it.
    key = prod.get(KEY, "data-key")
    resources = [replace(r, protect=False) if r is key else r for r in prod.resources]
    violations = mandatory(evaluate(resources, environment="prod"))
    assert [(v.rule, v.urn) for v in violations] == [("prod-data-protected", key.urn)]


def test_every_recorded_bucket_is_linked_to_its_guards(prod: Recording) -> None:
    assert [v for v in evaluate(prod.resources, environment="prod") if v.rule == "s3-bucket-guarded"] == []
    assert len(prod.of_type(BUCKET)) == 3



def test_a_v2_bucket_is_checked_for_its_guards() -> None:
    bucket = Resource(BUCKET_V2, "data", "urn:bucket", {"bucket": "data-1"})
    [violation] = stack_violations("s3-bucket-guarded", [bucket], environment="dev")
    assert violation.message == ("bucket data has no public access block, no encryption configuration, no ownership "
                                 "controls, no bucket policy, no versioning")


def test_v2_settings_guard_their_bucket_when_linked_by_name() -> None:
    # Offline (no refs), a setting points at its bucket by the bucket's name, as the mock engine records it.
    bucket = Recorded(BUCKET, "data", "urn:bucket", {"bucket": "data-1"}, state={"bucket": "data-1"})
    settings = [
        Resource(PAB, "pab", "urn:pab", {"bucket": "data-1"}),
        Resource(SSE_V2, "sse", "urn:sse", {"bucket": "data-1"}),
        Resource(OWNERSHIP, "own", "urn:own", {"bucket": "data-1"}),
        Resource(POLICY, "pol", "urn:pol", {"bucket": "data-1"}),
        Resource(VERSIONING_V2, "ver", "urn:ver", {"bucket": "data-1"}),
    ]
    assert stack_violations("s3-bucket-guarded", [bucket, *settings], environment="dev") == []


def test_a_prod_v2_bucket_must_be_protected() -> None:
    bucket = Resource(BUCKET_V2, "data", "urn:bucket", {"bucket": "data-1", "forceDestroy": "true"})
    assert [v.message.split(":", 1)[0] for v in stack_violations("prod-data-protected", [bucket], environment="prod")] == [
        "prod bucket data is not protected", "prod bucket data has forceDestroy"]


def test_a_prod_key_is_found_by_its_arn_without_refs() -> None:
    arn = "arn:aws:kms:us-east-1:123456789012:key/k"
    key = Recorded(KEY, "key", "urn:key", {}, state={"arn": arn})
    sse = Resource(SSE_V2, "sse", "urn:sse", {"rules": [{"applyServerSideEncryptionByDefault": {"kmsMasterKeyId": arn}}]})
    assert [v.urn for v in stack_violations("prod-data-protected", [key, sse], environment="prod")] == ["urn:key"]
