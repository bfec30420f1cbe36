"""The `training` section: when a run starts, the GPUs and time it gets, and the data it reads."""

from __future__ import annotations

from pydantic import Field, field_validator

from components.config.cron import cron_to_scheduler
from components.config.section import Section

BUILTIN_DATASETS = ("iris", "wine", "breast_cancer", "digits")


class TrainingConfig(Section):
    schedule: str = Field(default="0 3 * * *", description="When training runs: a 5-field cron, UTC.")
    gpus: int = Field(default=1, ge=0, le=8, description="GPUs given to a training run.")
    timeout_minutes: int = Field(
        default=60,
        ge=5,
        le=1440,
        description="How long one attempt of a training run may take, 5..1440: the Batch attempt timeout, or on a cluster "
        "the pod's activeDeadlineSeconds (plus a GPU node's start from zero on GKE).",
    )
    data: str = Field(
        default="builtin:iris",
        description="Training data: builtin:<name>, s3://bucket/key, or a key in the data bucket.",
    )

    @field_validator("data")
    @classmethod
    def _data_uri(cls, value: str) -> str:
        scheme, separator, rest = value.partition("://")
        if not value.isprintable() or " " in value:
            raise ValueError("must be one line without spaces or control characters")
        if value.startswith("builtin:"):
            if value.removeprefix("builtin:") not in BUILTIN_DATASETS:
                raise ValueError(f"builtin data sets are {', '.join(BUILTIN_DATASETS)}")
        elif separator and (scheme != "s3" or "/" not in rest):
            raise ValueError("use builtin:<name>, s3://bucket/key, or a key in the data bucket")
        elif not value.strip("/"):
            raise ValueError("must not be empty")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        cron_to_scheduler(value)  # raises ValueError with the reason
        return value

    @property
    def scheduler_expression(self) -> str:
        """The schedule as an EventBridge Scheduler `cron(...)` expression (evaluated in UTC)."""
        return cron_to_scheduler(self.schedule)


def training_data_uri(data: str, bucket_name: str) -> str:
    """`training.data` as the training job's --data: builtin: and s3:// as given, else a key
    in the data bucket."""
    if data.startswith(("builtin:", "s3://")):
        return data
    return f"s3://{bucket_name}/{data.lstrip('/')}"
