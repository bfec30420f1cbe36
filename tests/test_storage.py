"""The data bucket and its backups, as the program registers them for each stack."""

from __future__ import annotations

import json
from typing import Any

import pytest

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
