"""What a Batch training setup is given: the stack's compute section, each project's training and
image, and the bucket and repository they use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pulumi

from components.config import ComputeConfig, TrainConfig
from components.instance_types import GPU_INSTANCE_TYPES, InstanceSize
from components.network import TrainingNetwork


@dataclass(frozen=True)
class BatchProject:
    """One project's training on the shared capacity."""

    training: TrainConfig
    """When it runs, on how many GPUs, on which data, its gate, parameters and attempt timeout."""
    image_ref: pulumi.Input[str]
    """Its training image by digest: <acct>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:..."""


@dataclass(frozen=True, kw_only=True)
class BatchTrainingArgs:
    compute: ComputeConfig
    """The allowed instance types (`instance_type`) and the rest of `mlops:compute`."""
    projects: Mapping[str, BatchProject]
    """Each project that trains: its own job definition, role and (without Airflow) schedule."""
    spot: bool
    """Run on spot capacity (interruptions are retried) rather than on-demand."""
    subnets: Literal["public", "private"]
    """Public subnets without NAT (dev) or private subnets behind one NAT gateway."""
    name_prefix: str
    """Names the queue, job definition, schedule and log group, e.g. `mlops-dev`."""
    bucket_name: pulumi.Input[str]
    """The data bucket: training data in, model artifacts out."""
    bucket_arn: pulumi.Input[str]
    bucket_kms_key_arn: pulumi.Input[str]
    """The bucket's SSE-KMS key: reading and writing objects needs it."""
    train_repository_arn: pulumi.Input[str]
    """The ECR repository of the training images: the only one the instances may pull from."""
    notification_topic_arn: pulumi.Input[str]
    """The stack's SNS topic: a failed job, and a schedule's submit that never reached Batch, are told there."""
    runnable_timeout_minutes: int
    """How long a job may wait RUNNABLE for GPU capacity before the queue cancels it (10..1440)."""
    scheduled: bool
    """Each project's EventBridge schedule submits its runs (`pipeline.kind: none`). False: Airflow
    submits them, so there is no schedule, nor the role and dead-letter queue only a schedule uses."""
    log_retention_days: int = 30
    """How long CloudWatch keeps the jobs' logs."""
    network: TrainingNetwork | None = None
    """The stack's network where it shares one with its EKS cluster (in `subnets`' tier); None: Batch
    makes its own, as its child."""


def instance_sizes(compute: ComputeConfig) -> list[InstanceSize]:
    """The vCPUs, memory and GPUs of each instance type training may use, in the stack's order."""
    return [GPU_INSTANCE_TYPES[t] for t in compute.instance_type]


def longest_timeout_minutes(args: BatchTrainingArgs) -> int:
    """The longest attempt any project's job may take (60, the default, with none)."""
    return max((project.training.timeout_minutes for project in args.projects.values()), default=60)
