"""A hardened S3 bucket: the building block for the data, replica and log buckets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

# Multipart uploads a crashed writer abandons still cost storage until aborted.
ABORT_INCOMPLETE_UPLOADS_DAYS = 7


@dataclass(frozen=True)
class HardenedBucketArgs:
    name_prefix: str
    """Physical names start with this (S3 appends a unique suffix); lowercase, <= 37 chars."""
    noncurrent_version_days: int
    """Days a superseded object version is kept."""
    archive_after_days: int | None
    """Move current objects to Glacier Instant Retrieval after N days; None keeps them in Standard."""
    protect: bool
    """Refuse `pulumi destroy` (prod); otherwise the bucket is emptied and deleted with the stack."""
    key_deletion_window_days: int
    """Days a deleted KMS key can still be restored (7 to 30): the undo window for the data."""
    encryption: Literal["kms", "s3"] = "kms"
    """kms: SSE-KMS with a customer-managed, rotated key and a bucket key. s3: SSE-S3, only
    for the access-log bucket, because S3 server access logging cannot write to SSE-KMS buckets."""
    log_delivery_source_arn: pulumi.Input[str] | None = None
    """Makes this an access-log bucket: S3 log delivery may write logs of that bucket here."""


class HardenedBucket(pulumi.ComponentResource):
    """Versioned, encrypted, private, TLS-only bucket with lifecycle rules.

    Public attributes: `bucket` (the aws.s3.Bucket), `name`, `arn`, `kms_key` (None for SSE-S3),
    `versioning` (to depend on before replication is configured).
    """

    bucket: aws.s3.Bucket
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    kms_key: aws.kms.Key | None
    versioning: aws.s3.BucketVersioning

    def __init__(self, name: str, args: HardenedBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:storage:HardenedBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, protect=args.protect)

        self.kms_key = None
        if args.encryption == "kms":
            self.kms_key = aws.kms.Key(
                f"{name}-key",
                description=f"Encrypts objects in the {args.name_prefix} bucket",
                enable_key_rotation=True,
                deletion_window_in_days=args.key_deletion_window_days,
                opts=child,
            )
            aws.kms.Alias(
                f"{name}-key-alias",
                name=f"alias/{args.name_prefix}",
                target_key_id=self.kms_key.key_id,
                opts=child,
            )

        self.bucket = aws.s3.Bucket(
            name,
            bucket_prefix=f"{args.name_prefix}-",
            # Unprotected (dev, or prod in teardown): `pulumi destroy` empties and deletes the
            # bucket, every version included; S3 refuses to delete a bucket that is not empty.
            force_destroy=not args.protect,
            opts=child,
        )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn

        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[self._encryption_rule()],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=_lifecycle_rules(args),
            # Lifecycle rules on noncurrent versions need versioning in place first.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.versioning])),
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        _deny_insecure_transport(self.arn),
                        *_log_delivery(self.arn, args.log_delivery_source_arn, pulumi.InvokeOutputOptions(parent=self)),
                    ],
                }
            ),
            # S3 rejects policy writes that race the public-access block.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[public_access])),
        )

        self.register_outputs({"name": self.name, "arn": self.arn})

    def _encryption_rule(self) -> aws.s3.BucketServerSideEncryptionConfigurationRuleArgs:
        if self.kms_key is None:
            return aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256",
                ),
            )
        return aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms",
                kms_master_key_id=self.kms_key.arn,
            ),
            # A bucket key cuts KMS requests (and cost) by orders of magnitude.
            bucket_key_enabled=True,
        )


def _deny_insecure_transport(bucket_arn: pulumi.Output[str]) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _log_delivery(
    bucket_arn: pulumi.Output[str], source_arn: pulumi.Input[str] | None, lookup: pulumi.InvokeOutputOptions
) -> list[dict[str, Any]]:
    """Let S3's log delivery write the source bucket's access logs, and nothing else."""
    if source_arn is None:
        return []
    return [
        {
            "Sid": "AllowServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": pulumi.Output.concat(bucket_arn, "/*"),
            # Only for the source bucket, and only in this account: no confused deputy.
            "Condition": {
                "ArnLike": {"aws:SourceArn": source_arn},
                "StringEquals": {"aws:SourceAccount": aws.get_caller_identity_output(opts=lookup).account_id},
            },
        }
    ]


def _lifecycle_rules(args: HardenedBucketArgs) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    every_object = aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="")
    rules = [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="abort-incomplete-multipart-uploads",
            status="Enabled",
            filter=every_object,
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=ABORT_INCOMPLETE_UPLOADS_DAYS,
            ),
        ),
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-noncurrent-versions",
            status="Enabled",
            filter=every_object,
            noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=args.noncurrent_version_days,
            ),
            # Delete markers left alone once their versions expire only clutter listings.
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True),
        ),
    ]
    if args.archive_after_days is not None:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="archive-to-glacier-ir",
                status="Enabled",
                filter=every_object,
                # Glacier Instant Retrieval keeps millisecond reads, so an old model still loads.
                transitions=[
                    aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                        days=args.archive_after_days, storage_class="GLACIER_IR"
                    )
                ],
            )
        )
    return rules
