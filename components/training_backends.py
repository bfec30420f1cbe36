"""Where training runs, chosen once: AWS Batch (`compute.kind: ec2`) or a CronJob on the cluster.

The stack sees every backend the same way, as a `TrainingBackend`: the command that starts a
run now, the outputs of its own, and the ServiceAccount its runs use where they run on the
cluster (whose cloud role the stack then exports).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.batch import BatchTraining, BatchTrainingArgs
from components.clusters import Cluster
from components.config import StackConfig
from components.images import ContainerImages
from components.pods import Placement
from components.registry import ContainerRegistry
from components.storage import DataBucket
from components.training_cronjob import TrainingCronJob, TrainingCronJobArgs


@dataclass(frozen=True)
class TrainingBackend:
    train_now_command: pulumi.Output[str]
    """Starts a training run now (the `trainNowCommand` output)."""
    exports: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)
    """The backend's own stack outputs: where to look at a run."""
    service_account: str | None = None
    """The Kubernetes ServiceAccount the runs use; None where they do not run on the cluster."""


def training_backend_for(
    cfg: StackConfig,
    *,
    name_prefix: str,
    storage: DataBucket,
    registry: ContainerRegistry,
    images: ContainerImages,
    cluster: Cluster,
    placement: Placement,
    in_region: pulumi.ResourceOptions,
    on_cluster: pulumi.ResourceOptions,
) -> TrainingBackend:
    """Batch with `compute.kind: ec2`; otherwise the cluster trains (gke on its GPU pool, none on its CPUs)."""
    if cfg.compute.kind == "ec2":
        return batch_backend(cfg, name_prefix=name_prefix, storage=storage, registry=registry, images=images, opts=in_region)
    return cronjob_backend(cfg, images=images, cluster=cluster, placement=placement, opts=on_cluster)


def batch_backend(
    cfg: StackConfig,
    *,
    name_prefix: str,
    storage: DataBucket,
    registry: ContainerRegistry,
    images: ContainerImages,
    opts: pulumi.ResourceOptions,
) -> TrainingBackend:
    """AWS Batch on EC2 GPU instances, which cost nothing between runs."""
    training = BatchTraining(
        "training",
        BatchTrainingArgs(
            compute=cfg.compute,
            training=cfg.training,
            spot=cfg.spot,
            subnets=cfg.subnets,
            name_prefix=name_prefix,
            model_name=cfg.serving.model,
            bucket_name=storage.bucket_name,
            bucket_arn=storage.bucket_arn,
            bucket_kms_key_arn=storage.kms_key_arn,
            train_image_ref=images.refs["train"],
            train_repository_arn=registry.repository_arns["train"],
            log_retention_days=90 if cfg.is_prod else 14,
        ),
        opts=opts,
    )
    return TrainingBackend(
        train_now_command=training.submit_command,
        exports={
            "jobQueue": training.job_queue,
            "jobDefinition": training.job_definition,
            "trainingLogGroup": training.log_group,
            "describeJobCommand": training.describe_command,
            "logsCommand": training.logs_command,
        },
    )


def cronjob_backend(
    cfg: StackConfig, *, images: ContainerImages, cluster: Cluster, placement: Placement, opts: pulumi.ResourceOptions
) -> TrainingBackend:
    """A CronJob on the serving cluster, beside the model server."""
    cronjob = TrainingCronJob(
        "training",
        TrainingCronJobArgs(
            training=cfg.training,
            model=cfg.serving.model,
            image_ref=images.refs["train"],
            placement=placement,
            gpu_nodes_start_from_zero=cluster.gpu_nodes_start_from_zero,
        ),
        opts=opts,
    )
    return TrainingBackend(train_now_command=cronjob.run_now_command, service_account=cronjob.service_account)
