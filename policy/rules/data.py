"""Rules that guard the data: S3 buckets, their settings, and the KMS keys that encrypt them.

Resource rules check each setting (encryption, public access, TLS, ownership, versioning);
stack rules check that every bucket has all its settings, and that prod data survives a
`pulumi destroy`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policy.rules.core import Context, ResourceView
from policy.rules.inputs import (
    document, falsy, get, is_everyone, items, pointed_at, preview_value, requires, statements, truthy,
)

BUCKET = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
SSE_CONFIG = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
PUBLIC_ACCESS_BLOCK = frozenset({"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"})
OWNERSHIP = frozenset({"aws:s3/bucketOwnershipControls:BucketOwnershipControls"})
BUCKET_POLICY = frozenset({"aws:s3/bucketPolicy:BucketPolicy"})
VERSIONING = frozenset(
    {"aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"}
)
BUCKET_ACL = frozenset({"aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"})
KMS_KEY = frozenset({"aws:kms/key:Key"})

SSE_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse", "AES256"})
PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")

# --- each setting ------------------------------------------------------------------------


def _sse_defaults(inputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [rule for rule in items(inputs.get("rules")) if isinstance(rule, Mapping)]


def check_s3_encryption(inputs: Mapping[str, Any], _: Context) -> str | None:
    rules = _sse_defaults(inputs)
    if not rules:
        return "the encryption configuration has no rule; set sseAlgorithm aws:kms (or AES256)"
    for rule in rules:
        algorithm = get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        if algorithm not in SSE_ALGORITHMS:
            return f"sseAlgorithm is {algorithm!r}; use aws:kms with a customer-managed key (or AES256)"
    return None


def check_s3_bucket_key(inputs: Mapping[str, Any], _: Context) -> str | None:
    for rule in _sse_defaults(inputs):
        algorithm = get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        if algorithm in ("aws:kms", "aws:kms:dsse") and not truthy(rule.get("bucketKeyEnabled")):
            return "SSE-KMS without bucketKeyEnabled: every object request calls KMS (cost, throttling)"
    return None


def check_s3_public_access_block(inputs: Mapping[str, Any], _: Context) -> str | None:
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if not truthy(inputs.get(flag))]
    if off:
        return f"public access block flags not true: {', '.join(off)}; set all four to true"
    return None


def _denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Deny" or not is_everyone(statement.get("Principal")):
        return False
    actions = items(statement.get("Action"))
    if not any(action in ("s3:*", "*") for action in actions):
        return False
    secure = get(statement, "Condition", "Bool", "aws:SecureTransport")
    return any(falsy(value) for value in items(secure))


def check_s3_tls_only(inputs: Mapping[str, Any], _: Context) -> str | None:
    if any(_denies_insecure_transport(s) for s in statements(document(inputs.get("policy")))):
        return None
    return (
        "the bucket policy has no statement denying s3:* to everyone when aws:SecureTransport is "
        "false; add it so plain-HTTP requests are refused"
    )


def check_s3_no_public_policy(inputs: Mapping[str, Any], _: Context) -> str | None:
    for statement in statements(document(inputs.get("policy"))):
        if statement.get("Effect") == "Allow" and is_everyone(statement.get("Principal")) and not statement.get("Condition"):
            sid = statement.get("Sid", "(no Sid)")
            return f"statement {sid} allows everyone (Principal *) without a condition: the bucket would be public"
    return None


check_s3_ownership_enforced = requires(
    ("rule", "objectOwnership"), lambda ownership: ownership == "BucketOwnerEnforced",
    "objectOwnership is {value!r}; BucketOwnerEnforced turns ACLs off",
)


check_s3_no_public_acl = requires(
    ("acl",), lambda acl: acl not in PUBLIC_ACLS,
    "canned ACL {value!r} makes objects readable outside the account; use no ACL (ownership enforced)",
)


check_s3_versioning = requires(
    ("versioningConfiguration", "status"), lambda status: status == "Enabled",
    "versioning status is {value!r}; Enabled keeps overwritten and deleted objects recoverable",
)


def check_kms_rotation(inputs: Mapping[str, Any], _: Context) -> str | None:
    spec = inputs.get("customerMasterKeySpec") or inputs.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec != "SYMMETRIC_DEFAULT":
        return None  # AWS rotates only symmetric encryption keys
    if not truthy(inputs.get("enableKeyRotation")):
        return "enableKeyRotation is not true; turn on yearly automatic rotation"
    return None


# --- every bucket, and prod data ---------------------------------------------------------

BUCKET_GUARDS: Mapping[str, frozenset[str]] = {
    "public access block": PUBLIC_ACCESS_BLOCK,
    "encryption configuration": SSE_CONFIG,
    "ownership controls": OWNERSHIP,
    "bucket policy": BUCKET_POLICY,
    "versioning": VERSIONING,
}
"""The settings every bucket needs, in the order a violation names them, with their types."""
TEARDOWN_HINT = (
    "to tear prod down on purpose, run with --policy-pack-config policy/teardown.json "
    "(see README, Policies)"
)


def _bucket_settings(resources: Sequence[ResourceView], buckets: Sequence[ResourceView]) -> dict[str, set[str]]:
    """Bucket URN -> the setting kinds configured for it."""
    found: dict[str, set[str]] = {b.urn: set() for b in buckets}
    for resource in resources:
        for kind, types in BUCKET_GUARDS.items():
            if resource.type in types:
                for bucket in pointed_at(resource, "bucket", lambda r=resource: [r.inputs.get("bucket")], buckets):
                    found[bucket.urn].add(kind)
    return found


def check_buckets_guarded(resources: Sequence[ResourceView], _: Context) -> Iterator[tuple[str, str]]:
    buckets = [r for r in resources if r.type in BUCKET]
    settings = _bucket_settings(resources, buckets)
    for bucket in buckets:
        missing = [kind for kind in BUCKET_GUARDS if kind not in settings[bucket.urn]]
        if missing:
            yield bucket.urn, f"bucket {bucket.name} has no {', no '.join(missing)}"


def _sse_rules(resource: ResourceView) -> list[Mapping[str, Any]]:
    return [r for r in items(preview_value(resource, "rules")) if isinstance(r, Mapping)]


def _data_keys(resources: Sequence[ResourceView]) -> list[ResourceView]:
    """The KMS keys that an encryption configuration names, each once, in the order found."""
    keys = [r for r in resources if r.type in KMS_KEY]
    found: dict[str, ResourceView] = {}
    for resource in resources:
        if resource.type in SSE_CONFIG:
            def key_ids(r: ResourceView = resource) -> list[Any]:
                return [get(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId") for rule in _sse_rules(r)]

            for key in pointed_at(resource, "rules", key_ids, keys):
                found[key.urn] = key
    return list(found.values())


def check_prod_data_protected(resources: Sequence[ResourceView], context: Context) -> Iterator[tuple[str, str]]:
    if context.environment != "prod":
        return
    for bucket in (r for r in resources if r.type in BUCKET):
        if not bucket.protect:
            yield bucket.urn, f"prod bucket {bucket.name} is not protected: `pulumi destroy` would delete the data; {TEARDOWN_HINT}"
        if truthy(preview_value(bucket, "forceDestroy")):
            yield bucket.urn, f"prod bucket {bucket.name} has forceDestroy: deleting it would empty it first; {TEARDOWN_HINT}"
    for key in _data_keys(resources):
        if not key.protect:
            yield key.urn, f"KMS key {key.name} encrypts a prod bucket and is not protected: without it the data is unreadable; {TEARDOWN_HINT}"
