"""Rules that guard an RDS database: no public address, storage encrypted, automated backups kept,
and deletion protection in prod.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules.core import Context
from policy.rules.data import TEARDOWN_HINT
from policy.rules.inputs import requires, truthy

RDS_INSTANCE = frozenset({"aws:rds/instance:Instance"})

check_rds_not_public = requires(
    ("publiclyAccessible",), lambda public: not truthy(public),
    "the database has a public address: set publiclyAccessible false and reach it from the VPC",
)

check_rds_storage_encrypted = requires(
    ("storageEncrypted",), truthy,
    "storage, backups and snapshots are not encrypted: set storageEncrypted (with a KMS key of the stack's)",
)


def check_rds_backups(inputs: Mapping[str, Any], _: Context) -> str | None:
    # RDS's default retention is 0 days: no automated backups, and no restore to a point in time.
    days = inputs.get("backupRetentionPeriod")
    if not isinstance(days, (int, float)) or isinstance(days, bool) or days < 1:
        return f"backupRetentionPeriod is {days!r}: keep automated backups (1..35 days) for a point-in-time restore"
    return None


def check_rds_prod_deletion_protection(inputs: Mapping[str, Any], context: Context) -> str | None:
    if context.environment == "prod" and not truthy(inputs.get("deletionProtection")):
        return f"a prod database without deletionProtection can be deleted by one destroy; {TEARDOWN_HINT}"
    return None
