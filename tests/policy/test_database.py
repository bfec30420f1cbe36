"""policy/rules/database.py: each RDS rule on compliant and non-compliant inputs."""

from __future__ import annotations

from tests.policy.support import GOOD_RDS, RDS, RuleCases, violations_of


class TestDatabaseRules(RuleCases):
    """Each RDS rule on the inputs it accepts and refuses, on its type, in each environment."""

    ACCEPTED = {
        "rds-private": ("rds-not-public", RDS, GOOD_RDS),
        "rds-encrypted": ("rds-storage-encrypted", RDS, GOOD_RDS),
        "rds-backed-up": ("rds-backups", RDS, GOOD_RDS),
        "rds-protected": ("rds-prod-deletion-protection", RDS, GOOD_RDS),
    }

    REJECTED = {
        "rds-public": ("rds-not-public", RDS, {**GOOD_RDS, "publiclyAccessible": True}),
        "rds-unencrypted": ("rds-storage-encrypted", RDS, {**GOOD_RDS, "storageEncrypted": False}),
        "rds-no-backups": ("rds-backups", RDS, {**GOOD_RDS, "backupRetentionPeriod": 0}),
        "rds-prod-unprotected": ("rds-prod-deletion-protection", RDS, {**GOOD_RDS, "deletionProtection": False}),
    }

    PROD_ONLY_CASES = {"rds-prod-unprotected": "prod"}

    REJECTED_ON_EVERY_TYPE = {
        "rds-not-public": {RDS: {"publiclyAccessible": True}},
        "rds-storage-encrypted": {RDS: {}},
        "rds-backups": {RDS: {}},
        "rds-prod-deletion-protection": {RDS: {}},
    }

    VALUE_CASES = {
        "public-unset-is-private": ("rds-not-public", RDS, {}, True),
        "public-as-string": ("rds-not-public", RDS, {"publiclyAccessible": "true"}, False),
        "encrypted-as-string": ("rds-storage-encrypted", RDS, {"storageEncrypted": "true"}, True),
        "one-day-of-backups": ("rds-backups", RDS, {"backupRetentionPeriod": 1}, True),
        "backups-as-a-float": ("rds-backups", RDS, {"backupRetentionPeriod": 7.0}, True),
        "backups-unset": ("rds-backups", RDS, {}, False),
        "backups-as-true": ("rds-backups", RDS, {"backupRetentionPeriod": True}, False),
    }


def test_no_backups_says_what_a_restore_needs() -> None:
    [violation] = violations_of("rds-backups", RDS, {"backupRetentionPeriod": 0})
    assert violation.message == "backupRetentionPeriod is 0: keep automated backups (1..35 days) for a point-in-time restore"


def test_a_prod_database_needs_deletion_protection_and_dev_does_not() -> None:
    unprotected = {**GOOD_RDS, "deletionProtection": False}
    assert violations_of("rds-prod-deletion-protection", RDS, unprotected, environment="dev") == []
    [violation] = violations_of("rds-prod-deletion-protection", RDS, unprotected, environment="prod")
    assert violation.severity == "mandatory" and "teardown.json" in violation.message
