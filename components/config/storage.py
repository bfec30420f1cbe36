"""The `storage` section: how long the data bucket keeps old versions, where it is backed up
and when objects move to a colder class."""

from __future__ import annotations

from pydantic import Field, field_validator

from components.config.regions import AWS_REGIONS, check_region
from components.config.section import Section


class StorageConfig(Section):
    backup_region: str | None = Field(
        default=None,
        description="Replicate every object to a bucket in this AWS region. Required in prod.",
        json_schema_extra={"enum": [*AWS_REGIONS, None]},
    )
    noncurrent_version_days: int = Field(
        default=30, ge=1, description="Days a superseded object version is kept before it expires."
    )
    archive_after_days: int | None = Field(
        default=None,
        ge=30,
        description="Move objects to Glacier Instant Retrieval after this many days (S3 needs >= 30).",
    )

    @field_validator("backup_region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        return None if value is None else check_region(value)
