"""The `pipeline` section: the daily pipeline on Apache Airflow, or none.

With `kind: airflow` each project gets one DAG (validate data, train, evaluate against the
served version, promote, roll out), scheduled by Airflow from the project's `schedule`
and started over Airflow's REST API; the stack's EventBridge schedules or CronJobs are
not made. `kind: none` keeps them: training runs on its schedule and promotes by itself.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from components.config.section import Section


class DatabaseConfig(Section):
    """Airflow's metadata database where it is managed: Cloud SQL next to GKE, RDS next to EKS.

    `tier` is Cloud SQL's and `instance_class` RDS's; the disk and the backups are both's."""

    tier: str = Field(
        default="db-custom-1-3840",
        pattern=r"^db-(custom-[0-9]+-[0-9]+|f1-micro|g1-small)$",
        description="Cloud SQL machine tier: db-custom-<vCPUs>-<MiB>, or the shared-core db-f1-micro / db-g1-small.",
    )
    instance_class: str = Field(
        default="db.t4g.micro",
        pattern=r"^db\.[a-z][a-z0-9]*\.[a-z0-9][a-z0-9-]*$",
        description="RDS instance class (EKS stacks): db.<family>.<size>, e.g. db.t4g.micro or db.m7g.large.",
    )
    disk_gb: int = Field(
        default=10, ge=10, le=1000, description="SSD size in GB, grows by itself (RDS allocates at least its minimum of 20)."
    )
    backup_retention_days: int = Field(
        default=7, ge=1, le=365, description="How many daily automated backups are kept (Cloud SQL; RDS keeps at most 35)."
    )
    point_in_time_recovery_days: int = Field(
        default=7, ge=1, le=7, description="How far back the write-ahead log allows a point-in-time restore (1..7)."
    )


class PipelineConfig(Section):
    kind: Literal["airflow", "none"] = Field(
        default="airflow",
        description=(
            "airflow: Apache Airflow on the serving cluster runs one DAG per project (validate, train, "
            "evaluate, promote, roll out). none: each project's EventBridge schedule or CronJob trains and promotes."
        ),
    )
    promote_margin: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description=(
            "How much better than the served version a new one must score on the same held-out data to be "
            "promoted: new accuracy >= served accuracy + margin. 0: at least as good."
        ),
    )
    runnable_timeout_minutes: int = Field(
        default=30,
        # The job queue's time limit actions take 600 to 86,400 seconds (AWS Batch API,
        # JobStateTimeLimitAction.maxTimeSeconds).
        ge=10,
        le=1440,
        description=(
            "ec2: a training job still RUNNABLE (waiting for capacity) after this many minutes is cancelled "
            "and the run fails, instead of waiting for a GPU that never comes."
        ),
    )
    public_api: bool = Field(
        default=False,
        description=(
            "Expose Airflow's API server on a public load balancer (GKE only; its auth manager still "
            "requires a login). false: reached with kubectl port-forward only."
        ),
    )
    database: DatabaseConfig = Field(
        default=DatabaseConfig(),
        description="Airflow's metadata database where it is managed: Cloud SQL on a private IP (GKE stacks), RDS (EKS stacks).",
    )
