"""The data bucket and its backups, as the program registers them for each stack."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from components.bucket import HardenedBucketArgs
from components.config import StorageConfig
from components.storage import DataBucketArgs
from offline.engine import ACCOUNT_ID, Recording, Registration
from tests.support import RunWith

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
KMS_KEY = "aws:kms/key:Key"

# Every bucket prod creates gets the same hardening.
PROD_BUCKETS = ["data", "data-backup", "data-access-logs"]


def bucket_setting(recording: Recording, type_: str, bucket: str) -> Registration:
    """The one resource of `type_` that configures `bucket`."""
    bucket_id = recording.get(BUCKET, bucket).id
    matches = [r for r in recording.of_type(type_) if r.inputs.get("bucket") == bucket_id]
    assert len(matches) == 1, f"expected one {type_} on {bucket}, found {[m.name for m in matches]}"
    return matches[0]


def lifecycle_rule(recording: Recording, bucket: str, rule_id: str) -> dict[str, Any]:
    rules = bucket_setting(recording, LIFECYCLE, bucket).inputs["rules"]
    return next(rule for rule in rules if rule["id"] == rule_id)


def policy_statements(recording: Recording, bucket: str) -> dict[str, dict[str, Any]]:
    policy = json.loads(bucket_setting(recording, POLICY, bucket).inputs["policy"])
    return {statement["Sid"]: statement for statement in policy["Statement"]}


@pytest.mark.parametrize("bucket", PROD_BUCKETS)
def test_bucket_is_versioned(prod: Recording, bucket: str) -> None:
    assert bucket_setting(prod, VERSIONING, bucket).inputs["versioningConfiguration"]["status"] == "Enabled"


def test_dev_bucket_is_versioned(dev: Recording) -> None:
    assert bucket_setting(dev, VERSIONING, "data").inputs["versioningConfiguration"]["status"] == "Enabled"


@pytest.mark.parametrize("bucket", ["data", "data-backup"])
def test_bucket_uses_its_own_rotated_kms_key_with_bucket_key(prod: Recording, bucket: str) -> None:
    rule = bucket_setting(prod, ENCRYPTION, bucket).inputs["rules"][0]
    key = prod.get(KMS_KEY, f"{bucket}-key")
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == key.state["arn"]
    assert rule["bucketKeyEnabled"] is True
    assert key.inputs["enableKeyRotation"] is True


def test_access_log_bucket_uses_sse_s3_because_log_delivery_cannot_use_kms(prod: Recording) -> None:
    rule = bucket_setting(prod, ENCRYPTION, "data-access-logs").inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"


@pytest.mark.parametrize("bucket", PROD_BUCKETS)
def test_bucket_acls_are_disabled(prod: Recording, bucket: str) -> None:
    assert bucket_setting(prod, OWNERSHIP, bucket).inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"


@pytest.mark.parametrize("bucket", PROD_BUCKETS)
@pytest.mark.parametrize("flag", ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
def test_bucket_blocks_public_access(prod: Recording, bucket: str, flag: str) -> None:
    assert bucket_setting(prod, PUBLIC_ACCESS, bucket).inputs[flag] is True


@pytest.mark.parametrize("bucket", PROD_BUCKETS)
def test_bucket_policy_denies_requests_without_tls(prod: Recording, bucket: str) -> None:
    statement = policy_statements(prod, bucket)["DenyInsecureTransport"]
    bucket_arn = prod.get(BUCKET, bucket).state["arn"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [bucket_arn, f"{bucket_arn}/*"]


@pytest.mark.parametrize("bucket", PROD_BUCKETS)
def test_incomplete_multipart_uploads_are_aborted(prod: Recording, bucket: str) -> None:
    rule = lifecycle_rule(prod, bucket, "abort-incomplete-multipart-uploads")
    assert rule["status"] == "Enabled"
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7


@pytest.mark.parametrize(("stack", "days"), [("dev", 7), ("prod", 90)])
def test_noncurrent_versions_expire_after_configured_days(request: pytest.FixtureRequest, stack: str, days: int) -> None:
    recording: Recording = request.getfixturevalue(stack)
    rule = lifecycle_rule(recording, "data", "expire-noncurrent-versions")
    assert rule["status"] == "Enabled"
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == days


@pytest.mark.parametrize("bucket", PROD_BUCKETS)
def test_delete_markers_left_without_versions_are_removed(prod: Recording, bucket: str) -> None:
    rule = lifecycle_rule(prod, bucket, "expire-noncurrent-versions")
    assert rule["expiration"] == {"expiredObjectDeleteMarker": True}


@pytest.mark.parametrize(("stack", "days"), [("dev", 7), ("prod", 30)])
def test_bucket_key_deletion_window(request: pytest.FixtureRequest, stack: str, days: int) -> None:
    recording: Recording = request.getfixturevalue(stack)
    keys = [k for k in recording.of_type(KMS_KEY) if k.name in ("data-key", "data-backup-key")]
    assert keys
    assert {k.inputs["deletionWindowInDays"] for k in keys} == {days}


@pytest.mark.parametrize(("stack", "days"), [("dev", 30), ("prod", 180)])
def test_objects_move_to_colder_class_after_configured_days(request: pytest.FixtureRequest, stack: str, days: int) -> None:
    recording: Recording = request.getfixturevalue(stack)
    rule = lifecycle_rule(recording, "data", "archive-to-glacier-ir")
    assert rule["transitions"] == [{"days": days, "storageClass": "GLACIER_IR"}]


def test_no_archive_rule_without_archive_after_days(run_with: RunWith) -> None:
    recording = run_with("dev", **{"mlops:storage": {"archiveAfterDays": None}})
    rules = bucket_setting(recording, LIFECYCLE, "data").inputs["rules"]
    assert "archive-to-glacier-ir" not in [rule["id"] for rule in rules]


@pytest.mark.parametrize("bucket", PROD_BUCKETS)
def test_prod_bucket_survives_destroy(prod: Recording, bucket: str) -> None:
    registration = prod.get(BUCKET, bucket)
    assert registration.protect is True
    assert registration.inputs["forceDestroy"] is False


def test_prod_bucket_keys_survive_destroy(prod: Recording) -> None:
    # Deleting the key would make every object unreadable, so it is protected with the data.
    assert prod.get(KMS_KEY, "data-key").protect is True
    assert prod.get(KMS_KEY, "data-backup-key").protect is True


def test_prod_replication_survives_destroy(prod: Recording) -> None:
    assert prod.one(REPLICATION).protect is True


def test_prod_teardown_lifts_protection_and_empties_buckets_on_destroy(run_with: RunWith) -> None:
    teardown = run_with("prod", **{"mlops:teardown": "true"})
    for bucket in PROD_BUCKETS:
        registration = teardown.get(BUCKET, bucket)
        assert registration.protect is False, bucket
        assert registration.inputs["forceDestroy"] is True, bucket
    assert [k.protect for k in teardown.of_type(KMS_KEY)] == [False] * len(teardown.of_type(KMS_KEY))
    assert teardown.one(REPLICATION).protect is False
    assert not any(r.protect for r in teardown.resources), "nothing may block the destroy that follows"


def test_prod_teardown_keeps_the_30_day_key_undo_window(run_with: RunWith) -> None:
    teardown = run_with("prod", **{"mlops:teardown": "true"})
    assert teardown.get(KMS_KEY, "data-key").inputs["deletionWindowInDays"] == 30


def test_dev_bucket_tears_down_cleanly(dev: Recording) -> None:
    registration = dev.get(BUCKET, "data")
    assert registration.protect is False
    assert registration.inputs["forceDestroy"] is True


def test_prod_logs_access_to_the_log_bucket(prod: Recording) -> None:
    logging = prod.one(LOGGING)
    assert logging.inputs["bucket"] == prod.get(BUCKET, "data").id
    assert logging.inputs["targetBucket"] == prod.get(BUCKET, "data-access-logs").id


def test_log_bucket_admits_only_log_delivery_for_the_data_bucket(prod: Recording) -> None:
    statement = policy_statements(prod, "data-access-logs")["AllowServerAccessLogDelivery"]
    assert statement["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"] == prod.get(BUCKET, "data-access-logs").state["arn"] + "/*"
    # Without both, log delivery acting for another account's bucket could write here (confused deputy).
    assert statement["Condition"] == {
        "ArnLike": {"aws:SourceArn": prod.get(BUCKET, "data").state["arn"]},
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
    }


def test_dev_has_no_access_logs_or_replica(dev: Recording) -> None:
    assert dev.of_type(LOGGING) == []
    assert dev.of_type(REPLICATION) == []
    assert [b.name for b in dev.of_type(BUCKET)] == ["data"]


def test_prod_replicates_every_object_to_the_backup_region(prod: Recording) -> None:
    rule = prod.one(REPLICATION).inputs["rules"][0]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": ""}
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled"
    assert rule["destination"]["bucket"] == prod.get(BUCKET, "data-backup").state["arn"]


def test_replicas_are_encrypted_with_the_backup_regions_key(prod: Recording) -> None:
    rule = prod.one(REPLICATION).inputs["rules"][0]
    replica_key = rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"]
    assert replica_key == prod.get(KMS_KEY, "data-backup-key").state["arn"]
    assert ":us-west-2:" in replica_key


def test_backup_bucket_is_created_through_the_backup_region_provider(prod: Recording) -> None:
    backup_provider = prod.get("pulumi:providers:aws", "aws-backup")
    assert backup_provider.inputs["region"] == "us-west-2"
    for resource in prod.resources:
        if resource.name.startswith("data-backup") and resource.custom:
            assert resource.provider.startswith(backup_provider.urn), resource.name


def test_replication_role_can_only_read_source_and_write_replica(prod: Recording) -> None:
    policy = json.loads(prod.get("aws:iam/rolePolicy:RolePolicy", "data-replication").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    source_arn = prod.get(BUCKET, "data").state["arn"]
    assert statements["ReadReplicationConfiguration"]["Resource"] == source_arn
    assert statements["ReadSourceVersions"]["Resource"] == f"{source_arn}/*"
    assert statements["WriteReplicas"]["Resource"] == prod.get(BUCKET, "data-backup").state["arn"] + "/*"
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not any(a.endswith("*") for a in actions)


def test_replication_role_uses_only_the_two_bucket_keys(prod: Recording) -> None:
    policy = json.loads(prod.get("aws:iam/rolePolicy:RolePolicy", "data-replication").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["DecryptSource"] == {
        "Sid": "DecryptSource",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": prod.get(KMS_KEY, "data-key").state["arn"],
    }
    assert statements["EncryptReplicas"]["Resource"] == prod.get(KMS_KEY, "data-backup-key").state["arn"]
    assert sorted(statements["EncryptReplicas"]["Action"]) == ["kms:Encrypt", "kms:GenerateDataKey"]


def test_replication_role_is_assumed_only_by_s3_for_the_data_bucket(prod: Recording) -> None:
    # Without the source conditions, S3 replicating someone else's bucket could assume this role.
    trust = json.loads(prod.get("aws:iam/role:Role", "data-replication").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                "ArnLike": {"aws:SourceArn": prod.get(BUCKET, "data").state["arn"]},
            },
        }
    ]


def test_replication_writes_the_replica_through_the_role(prod: Recording) -> None:
    replication = prod.one(REPLICATION).inputs
    assert replication["role"] == prod.get("aws:iam/role:Role", "data-replication").state["arn"]
    assert replication["bucket"] == prod.get(BUCKET, "data").id


def test_dev_replicates_when_given_a_backup_region(run_with: RunWith) -> None:
    recording = run_with("dev", **{"mlops:storage": {"backupRegion": "eu-west-1"}})
    assert recording.get("pulumi:providers:aws", "aws-backup").inputs["region"] == "eu-west-1"
    assert len(recording.of_type(REPLICATION)) == 1


@pytest.mark.parametrize(
    ("setting", "waits_for", "why"),
    [
        (LIFECYCLE, VERSIONING, "rules on noncurrent versions need versioning first"),
        (POLICY, PUBLIC_ACCESS, "S3 rejects a policy write that races the public-access block"),
    ],
)
def test_bucket_settings_wait_for_what_they_need(prod: Recording, setting: str, waits_for: str, why: str) -> None:
    for bucket in PROD_BUCKETS:
        needed = bucket_setting(prod, waits_for, bucket).urn
        assert needed in bucket_setting(prod, setting, bucket).dependencies, f"{bucket}: {why}"


def test_replication_waits_for_versioning_on_both_buckets(prod: Recording) -> None:
    dependencies = prod.one(REPLICATION).dependencies
    for bucket in ("data", "data-backup"):
        assert bucket_setting(prod, VERSIONING, bucket).urn in dependencies


@pytest.mark.parametrize(("key", "alias"), [("data-key", "alias/mlops-prod-data"), ("data-backup-key", "alias/mlops-prod-backup")])
def test_bucket_key_has_a_stable_alias(prod: Recording, key: str, alias: str) -> None:
    registration = prod.get("aws:kms/alias:Alias", f"{key}-alias")
    assert registration.inputs["name"] == alias
    assert registration.inputs["targetKeyId"] == prod.get(KMS_KEY, key).state["keyId"]


def test_access_logs_go_under_their_own_prefix(prod: Recording) -> None:
    assert prod.one(LOGGING).inputs["targetPrefix"] == "s3-access/"


# --- Exact settings, so a one-line change to any of them fails a test -------------------

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


HARDENED = "mlops:storage:HardenedBucket"
DATA_BUCKET = "mlops:storage:DataBucket"
BUCKET_SETTINGS = [
    (BUCKET, ""), (KMS_KEY, "-key"), ("aws:kms/alias:Alias", "-key-alias"), (OWNERSHIP, "-ownership"),
    (PUBLIC_ACCESS, "-public-access"), (VERSIONING, "-versioning"), (ENCRYPTION, "-encryption"),
    (LIFECYCLE, "-lifecycle"), (POLICY, "-policy"),
]


def parent_of(recording: Recording, registration: Registration) -> tuple[str, str]:
    parent = next(r for r in recording.resources if r.urn == registration.parent)
    return parent.type, parent.name


@pytest.mark.parametrize("bucket", PROD_BUCKETS)
def test_bucket_resources_sit_under_their_hardened_bucket(prod: Recording, bucket: str) -> None:
    # A resource's URN includes its parent: a changed parent is a new URN, and Pulumi
    # replaces (deletes) the prod bucket, its key and every setting with it.
    assert parent_of(prod, prod.get(HARDENED, bucket)) == (DATA_BUCKET, "data")
    settings = [(t, f"{bucket}{suffix}") for t, suffix in BUCKET_SETTINGS]
    if bucket == "data-access-logs":
        settings = [(t, n) for t, n in settings if t not in (KMS_KEY, "aws:kms/alias:Alias")]  # SSE-S3: no key
    for type_, name in settings:
        assert parent_of(prod, prod.get(type_, name)) == (HARDENED, bucket), name


def test_logging_and_replication_sit_under_the_data_bucket(prod: Recording) -> None:
    # As above: a new parent is a new URN, and a replaced replication config is a gap in the backup.
    for registration in (prod.one(LOGGING), prod.one(REPLICATION), prod.get(ROLE, "data-replication"),
                         prod.get(ROLE_POLICY, "data-replication")):
        assert parent_of(prod, registration) == (DATA_BUCKET, "data"), registration.type


@pytest.mark.parametrize(
    ("stack", "prefixes"),
    [
        ("dev", {"data": "mlops-dev-data-"}),
        (
            "prod",
            {"data": "mlops-prod-data-", "data-backup": "mlops-prod-backup-", "data-access-logs": "mlops-prod-access-logs-"},
        ),
    ],
)
def test_bucket_names_start_with_the_stack_name(request: pytest.FixtureRequest, stack: str, prefixes: dict[str, str]) -> None:
    # Bucket names are global across AWS: without the stack in the prefix, dev and prod
    # (or two accounts) would collide, and the log/backup buckets could not be told apart.
    recording: Recording = request.getfixturevalue(stack)
    assert {b.name: b.inputs["bucketPrefix"] for b in recording.of_type(BUCKET)} == prefixes


@pytest.mark.parametrize(
    ("stack", "noncurrent", "archive"), [("dev", 7, 30), ("prod", 90, 180)]
)
def test_data_bucket_lifecycle_rules_are_exactly_these(
    request: pytest.FixtureRequest, stack: str, noncurrent: int, archive: int
) -> None:
    # Every rule covers every object (an empty prefix) and is on; a disabled rule or a
    # filter that matches nothing keeps paying for old versions and uploads forever.
    recording: Recording = request.getfixturevalue(stack)
    assert bucket_setting(recording, LIFECYCLE, "data").inputs["rules"] == [
        {
            "id": "abort-incomplete-multipart-uploads",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
        },
        {
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrentVersionExpiration": {"noncurrentDays": noncurrent},
            "expiration": {"expiredObjectDeleteMarker": True},
        },
        {
            "id": "archive-to-glacier-ir",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "transitions": [{"days": archive, "storageClass": "GLACIER_IR"}],
        },
    ]


@pytest.mark.parametrize("bucket", PROD_BUCKETS)
def test_bucket_policy_is_a_valid_2012_policy_document(prod: Recording, bucket: str) -> None:
    # IAM reads an unknown or missing Version as 2008-10-17, where policy variables fail.
    policy = json.loads(bucket_setting(prod, POLICY, bucket).inputs["policy"])
    assert policy["Version"] == "2012-10-17"


@pytest.mark.parametrize(("bucket", "sids"), [("data", ["DenyInsecureTransport"]), ("data-backup", ["DenyInsecureTransport"]),
                                              ("data-access-logs", ["DenyInsecureTransport", "AllowServerAccessLogDelivery"])])
def test_only_the_log_bucket_admits_log_delivery(prod: Recording, bucket: str, sids: list[str]) -> None:
    # A log-delivery grant on the data bucket would let S3 write objects into the data.
    policy = json.loads(bucket_setting(prod, POLICY, bucket).inputs["policy"])
    assert [s["Sid"] for s in policy["Statement"]] == sids


def test_log_delivery_statement_is_exactly_this(prod: Recording) -> None:
    # An Effect other than Allow, or another action, and S3 silently stops delivering logs.
    statement = policy_statements(prod, "data-access-logs")["AllowServerAccessLogDelivery"]
    assert statement == {
        "Sid": "AllowServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": prod.get(BUCKET, "data-access-logs").state["arn"] + "/*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": prod.get(BUCKET, "data").state["arn"]},
            "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
        },
    }


def test_access_logging_writes_from_the_data_bucket_to_the_log_bucket(prod: Recording) -> None:
    # Pointed elsewhere, the logs land in a bucket S3 may not write to, or log themselves.
    assert prod.one(LOGGING).inputs == {
        "bucket": prod.get(BUCKET, "data").id,
        "targetBucket": prod.get(BUCKET, "data-access-logs").id,
        "targetPrefix": "s3-access/",
    }


def test_replication_rule_is_exactly_this(prod: Recording) -> None:
    # Each field is one way to lose the backup: a disabled rule, a prefix that matches
    # nothing, deletes that never reach the replica, KMS objects skipped, a replica
    # written with the source region's key (which the backup region cannot use).
    rules = prod.one(REPLICATION).inputs["rules"]
    assert rules == [
        {
            "id": "backup-every-object",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "deleteMarkerReplication": {"status": "Enabled"},
            "sourceSelectionCriteria": {"sseKmsEncryptedObjects": {"status": "Enabled"}},
            "destination": {
                "bucket": prod.get(BUCKET, "data-backup").state["arn"],
                "encryptionConfiguration": {"replicaKmsKeyId": prod.get(KMS_KEY, "data-backup-key").state["arn"]},
            },
        }
    ]


def test_replication_role_policy_is_exactly_this(prod: Recording) -> None:
    # One action fewer and S3 stops replicating (silently, as a FAILED replication
    # status per object); one more, or a wider resource, and the role can touch other data.
    policy = json.loads(prod.get(ROLE_POLICY, "data-replication").inputs["policy"])
    source = prod.get(BUCKET, "data").state["arn"]
    backup = prod.get(BUCKET, "data-backup").state["arn"]
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadReplicationConfiguration",
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": source,
            },
            {
                "Sid": "ReadSourceVersions",
                "Effect": "Allow",
                "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                "Resource": f"{source}/*",
            },
            {
                "Sid": "WriteReplicas",
                "Effect": "Allow",
                "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                "Resource": f"{backup}/*",
            },
            {"Sid": "DecryptSource", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": prod.get(KMS_KEY, "data-key").state["arn"]},
            {
                "Sid": "EncryptReplicas",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": prod.get(KMS_KEY, "data-backup-key").state["arn"],
            },
        ],
    }


def test_replication_policy_is_attached_to_the_replication_role(prod: Recording) -> None:
    # Attached to no role (or another), replication fails with access denied.
    assert prod.get(ROLE_POLICY, "data-replication").inputs["role"] == prod.get(ROLE, "data-replication").id


def test_replication_role_is_bounded_like_every_workload_role(prod: Recording) -> None:
    # The scoped deployer may only create roles under /mlops/ with the workload boundary;
    # without either, `pulumi up` on the real account fails with access denied.
    inputs = prod.get(ROLE, "data-replication").inputs
    assert inputs["path"] == "/mlops/"
    assert inputs["permissionsBoundary"] == f"arn:aws:iam::{ACCOUNT_ID}:policy/mlops/mlops-workload-boundary"


@pytest.mark.parametrize(("stack", "protected"), [("dev", False), ("prod", True)])
def test_every_bucket_setting_is_protected_with_the_bucket_in_prod(
    request: pytest.FixtureRequest, stack: str, protected: bool
) -> None:
    # A prod destroy must not strip the encryption, versioning or public-access block off
    # a bucket it then refuses to delete; in dev nothing may block the destroy.
    recording: Recording = request.getfixturevalue(stack)
    hardened = {r.urn for r in recording.of_type("mlops:storage:HardenedBucket")}
    children = [r for r in recording.resources if r.parent in hardened]
    assert len(children) == (25 if protected else 9)
    assert {r.name: r.protect for r in children} == {r.name: protected for r in children}


def test_prod_replication_role_and_logging_are_not_protected(prod: Recording) -> None:
    # They hold no data; protecting them would only make a teardown fail halfway.
    assert prod.get(ROLE, "data-replication").protect is False
    assert prod.get(ROLE_POLICY, "data-replication").protect is False
    assert prod.one(LOGGING).protect is False


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_nothing_in_storage_is_retained_on_delete(request: pytest.FixtureRequest, stack: str) -> None:
    # A retained bucket outlives the stack unseen (and billed); prod relies on protect instead.
    recording: Recording = request.getfixturevalue(stack)
    assert [r.name for r in recording.resources if r.name.startswith("data") and r.retain_on_delete] == []


def test_bucket_args_cannot_change_after_a_bucket_took_them() -> None:
    # One HardenedBucketArgs is shared (through dataclasses.replace) by the data, backup and
    # log buckets; were it mutable, a change meant for one would silently reach the others.
    hardening = HardenedBucketArgs(
        name_prefix="mlops-dev-data", noncurrent_version_days=7, archive_after_days=None, protect=False,
        key_deletion_window_days=7,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        hardening.protect = True  # type: ignore[misc]
    args = DataBucketArgs(
        storage=StorageConfig(), name_prefix="mlops-dev", protect_data=False, key_deletion_window_days=7,
        log_access=False, backup_provider=None,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        args.protect_data = True  # type: ignore[misc]


@pytest.mark.parametrize("stack", ["dev", "prod", "prod_on_aws"])
def test_every_lookup_goes_through_the_stacks_own_provider(request: pytest.FixtureRequest, stack: str) -> None:
    # A lookup without a parent goes through Pulumi's default provider, which knows only
    # aws:region and the ambient credentials: the account id in the aws:SourceAccount
    # guards could then be another account's, and `disable-default-providers` fails the run.
    recording: Recording = request.getfixturevalue(stack)
    assert recording.invoke_providers
    assert [token for token, provider in recording.invoke_providers if not provider] == []
