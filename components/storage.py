"""The data bucket for datasets and models, with its backups: versions, replica, logs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import assumable_by_service_for, assumable_role
from components.bucket import HardenedBucket, HardenedBucketArgs
from components.config import StorageConfig


@dataclass(frozen=True)
class DataBucketArgs:
    storage: StorageConfig
    name_prefix: str
    """Physical names start with this, e.g. `mlops-dev`."""
    protect_data: bool
    """prod: `pulumi destroy` cannot delete the buckets or their keys."""
    key_deletion_window_days: int
    """Days a deleted bucket key can still be restored."""
    log_access: bool
    """prod: server access logs go to a log bucket."""
    backup_provider: aws.Provider | None
    """A provider for `storage.backup_region`; when set, every object is replicated there."""


class DataBucket(pulumi.ComponentResource):
    """The S3 bucket the platform keeps datasets and model artifacts in."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    backup_bucket_name: pulumi.Output[str] | None
    log_bucket_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: DataBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:storage:DataBucket", name, None, opts)
        hardening = HardenedBucketArgs(
            name_prefix=f"{args.name_prefix}-data",
            noncurrent_version_days=args.storage.noncurrent_version_days,
            archive_after_days=args.storage.archive_after_days,
            protect=args.protect_data,
            key_deletion_window_days=args.key_deletion_window_days,
        )

        data = HardenedBucket(name, hardening, opts=pulumi.ResourceOptions(parent=self))
        data_key = data.kms_key
        if data_key is None:  # HardenedBucketArgs defaults to SSE-KMS
            raise AssertionError("the data bucket must be KMS-encrypted")
        self.bucket_name = data.name
        self.bucket_arn = data.arn
        self.kms_key_arn = data_key.arn

        self.log_bucket_name = None
        if args.log_access:
            logs = HardenedBucket(
                f"{name}-access-logs",
                replace(
                    hardening,
                    name_prefix=f"{args.name_prefix}-access-logs",
                    encryption="s3",
                    log_delivery_source_arn=data.arn,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.s3.BucketLogging(
                f"{name}-logging",
                bucket=data.bucket.id,
                target_bucket=logs.bucket.id,
                target_prefix="s3-access/",
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.log_bucket_name = logs.name

        self.backup_bucket_name = None
        if args.backup_provider is not None:
            backup = HardenedBucket(
                f"{name}-backup",
                replace(hardening, name_prefix=f"{args.name_prefix}-backup"),
                opts=pulumi.ResourceOptions(parent=self, providers={"aws": args.backup_provider}),
            )
            self._replicate(name, source=data, destination=backup, protect=args.protect_data)
            self.backup_bucket_name = backup.name

        self.register_outputs(
            {
                "bucketName": self.bucket_name,
                "backupBucketName": self.backup_bucket_name,
                "logBucketName": self.log_bucket_name,
            }
        )

    def _replicate(self, name: str, *, source: HardenedBucket, destination: HardenedBucket, protect: bool) -> None:
        """Replicate every object version, delete markers included, into `destination`."""
        if source.kms_key is None or destination.kms_key is None:
            raise AssertionError("replication is set up between KMS-encrypted buckets")
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        role = assumable_role(
            f"{name}-replication",
            # S3 may assume it only to replicate this account's source bucket.
            trust=assumable_by_service_for("s3.amazonaws.com", source_account=account, source_arn=source.arn),
            policy=_replication_policy(
                source_arn=source.arn,
                source_key_arn=source.kms_key.arn,
                destination_arn=destination.arn,
                destination_key_arn=destination.kms_key.arn,
            ),
            policy_name=f"{name}-replication",
            parent=self,
        )
        aws.s3.BucketReplicationConfig(
            f"{name}-replication",
            bucket=source.bucket.id,
            role=role.arn,
            rules=[
                aws.s3.BucketReplicationConfigRuleArgs(
                    id="backup-every-object",
                    status="Enabled",
                    filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                    delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                        status="Enabled"
                    ),
                    # Objects are SSE-KMS encrypted; S3 skips them unless told to re-encrypt.
                    source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                        sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                            status="Enabled"
                        ),
                    ),
                    destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                        bucket=destination.arn,
                        encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                            replica_kms_key_id=destination.kms_key.arn,
                        ),
                    ),
                )
            ],
            # S3 refuses a replication configuration until both buckets are versioned.
            opts=pulumi.ResourceOptions(
                parent=self, protect=protect, depends_on=[source.versioning, destination.versioning]
            ),
        )


def _replication_policy(
    *,
    source_arn: pulumi.Output[str],
    source_key_arn: pulumi.Output[str],
    destination_arn: pulumi.Output[str],
    destination_key_arn: pulumi.Output[str],
) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadReplicationConfiguration",
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": source_arn,
            },
            {
                "Sid": "ReadSourceVersions",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                "Resource": pulumi.Output.concat(source_arn, "/*"),
            },
            {
                "Sid": "WriteReplicas",
                "Effect": "Allow",
                "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                "Resource": pulumi.Output.concat(destination_arn, "/*"),
            },
            {"Sid": "DecryptSource", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": source_key_arn},
            {
                "Sid": "EncryptReplicas",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": destination_key_arn,
            },
        ],
    }
