"""What a Batch training setup is given: the stack's compute and training sections, and the artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from components.config import ComputeConfig, TrainingConfig
from components.instance_types import GPU_INSTANCE_TYPES, InstanceSize


@dataclass(frozen=True, kw_only=True)
class BatchTrainingArgs:
    compute: ComputeConfig
    """The allowed instance types (`instance_type`) and the rest of `mlops:compute`."""
    training: TrainingConfig
    """When training runs, on how many GPUs, on which data, and its attempt timeout."""
    spot: bool
    """Run on spot capacity (interruptions are retried) rather than on-demand."""
    subnets: Literal["public", "private"]
    """Public subnets without NAT (dev) or private subnets behind one NAT gateway."""
    name_prefix: str
    """Names the queue, job definition, schedule and log group, e.g. `mlops-dev`."""
    model_name: str
    """The job's --model: artifacts go to s3://<bucket>/models/<model>/."""
    bucket_name: pulumi.Input[str]
    """The data bucket: training data in, model artifacts out."""
    bucket_arn: pulumi.Input[str]
    bucket_kms_key_arn: pulumi.Input[str]
    """The bucket's SSE-KMS key: reading and writing objects needs it."""
    train_image_ref: pulumi.Input[str]
    """The training image by digest: <acct>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:..."""
    train_repository_arn: pulumi.Input[str]
    """The ECR repository of that image: the only one the instances may pull from."""
    log_retention_days: int = 30
    """How long CloudWatch keeps the jobs' logs."""


def instance_sizes(compute: ComputeConfig) -> list[InstanceSize]:
    """The vCPUs, memory and GPUs of each instance type training may use, in the stack's order."""
    return [GPU_INSTANCE_TYPES[t] for t in compute.instance_type]
