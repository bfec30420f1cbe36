"""The storage section on its own: the backup region is one of the aws partition's."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components.config import StorageConfig


def test_a_backup_region_of_the_aws_partition_is_accepted() -> None:
    assert StorageConfig.model_validate({"backupRegion": "us-west-2"}).backup_region == "us-west-2"


def test_a_mistyped_backup_region_gets_the_nearest_region() -> None:
    with pytest.raises(ValidationError, match="'uswest2' is not an AWS region; did you mean us-west-2?"):
        StorageConfig.model_validate({"backupRegion": "uswest2"})


def test_no_backup_region_is_valid_for_the_section_alone() -> None:
    # Prod's need for one is a rule across sections (tests/config/test_rules.py), not the section's.
    assert StorageConfig.model_validate({}).backup_region is None
