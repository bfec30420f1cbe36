"""`pipeline.database`: the RDS instance class, and the backup retention RDS allows next to EKS."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError
from components.config.rules import RDS_MAX_BACKUP_RETENTION_DAYS
from tests.config.support import parse, problems

ON_EKS = {"serving": {"cluster": "eks"}}
RETENTION_TOO_LONG = 'mlops:pipeline.database.backupRetentionDays: 36 must be at most 35 on RDS (serving.cluster eks)'


def reported(**sections: Any) -> list[str]:
    """Every problem of a dev stack with these sections; [] when it parses (an EKS stack may, or may not yet)."""
    try:
        parse(**sections)
    except ConfigError as error:
        return error.problems
    return []


@pytest.mark.parametrize("instance_class", ["db.t4g.micro", "db.m7g.large", "db.r6gd.2xlarge", "db.m7i.metal-24xl"])
def test_an_rds_instance_class_is_accepted(instance_class: str) -> None:
    assert parse(pipeline={"database": {"instanceClass": instance_class}}).pipeline.database.instance_class == instance_class


@pytest.mark.parametrize("instance_class", ["t4g.micro", "db-custom-1-3840", "db.T4G.micro", "db.t4g", "db..micro"])
def test_anything_but_the_db_family_size_form_is_refused(instance_class: str) -> None:
    [problem] = problems(pipeline={"database": {"instanceClass": instance_class}})
    assert problem.startswith("mlops:pipeline.database.instanceClass: ")


def test_on_eks_the_retention_must_be_at_most_rds_maximum() -> None:
    assert RDS_MAX_BACKUP_RETENTION_DAYS == 35
    assert RETENTION_TOO_LONG in reported(**ON_EKS, pipeline={"database": {"backupRetentionDays": 36}})
    assert not any("backupRetentionDays" in p for p in reported(**ON_EKS, pipeline={"database": {"backupRetentionDays": 35}}))


def test_the_rds_limit_holds_only_where_airflow_keeps_its_database_on_rds() -> None:
    # Cloud SQL keeps 365 days; without Airflow there is no database at all.
    assert parse(pipeline={"database": {"backupRetentionDays": 365}}).pipeline.database.backup_retention_days == 365
    found = reported(**ON_EKS, pipeline={"kind": "none", "database": {"backupRetentionDays": 36}})
    assert not any("pipeline.database" in p for p in found)
