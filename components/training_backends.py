"""Where training runs, chosen once: AWS Batch (`compute.kind: ec2`) or a CronJob per project on the cluster.

The stack sees every backend the same way, as a `TrainingBackend`: per project, the command
that starts a run now and the ServiceAccount its runs use where they run on the cluster
(whose cloud role the stack then exports); and the backend's own shared outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.batch import BatchProject, BatchTraining, BatchTrainingArgs
from components.clusters import Cluster
from components.config import StackConfig, TrainConfig
from components.migration import renamed
from components.pods import Placement
from components.registry import ContainerRegistry
from components.storage import DataBucket
from components.training_cronjob import TrainingCronJob, TrainingCronJobArgs


@dataclass(frozen=True)
class TrainingBackend:
    train_now_commands: Mapping[str, pulumi.Output[str]]
    """Per project: starts a training run now (its `trainNowCommand`)."""
    exports: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)
    """The backend's own stack outputs: where to look at a run."""
    project_exports: Mapping[str, Mapping[str, pulumi.Output[str]]] = field(default_factory=dict)
    """Per project, the backend's outputs of that project (its job definition)."""
    service_accounts: Mapping[str, str] = field(default_factory=dict)
    """Per project, the Kubernetes ServiceAccount its runs use; empty where they do not run on the cluster."""


def trainings_of(cfg: StackConfig) -> dict[str, TrainConfig]:
    """The projects that train, with their training settings."""
    return {name: project.train for name, project in cfg.projects.items() if project.train is not None}


def training_backend_for(
    cfg: StackConfig,
    *,
    name_prefix: str,
    storage: DataBucket,
    registry: ContainerRegistry,
    image_refs: Mapping[str, pulumi.Input[str]],
    cluster: Cluster,
    placement: Placement,
    notification_topic_arn: pulumi.Input[str],
    in_region: pulumi.ResourceOptions,
    on_cluster: pulumi.ResourceOptions,
) -> TrainingBackend:
    """Batch with `compute.kind: ec2`; otherwise the cluster trains (gke on its GPU pool, none on its CPUs).

    `image_refs` is each training project's image by digest. Batch tells `notification_topic_arn`
    of its failures; on the cluster, the alert rules watch the training Jobs instead.
    """
    if cfg.compute.kind == "ec2":
        return batch_backend(
            cfg, name_prefix=name_prefix, storage=storage, registry=registry, image_refs=image_refs,
            notification_topic_arn=notification_topic_arn, opts=in_region,
        )
    return cronjob_backend(cfg, image_refs=image_refs, cluster=cluster, placement=placement, opts=on_cluster)


def batch_backend(
    cfg: StackConfig,
    *,
    name_prefix: str,
    storage: DataBucket,
    registry: ContainerRegistry,
    image_refs: Mapping[str, pulumi.Input[str]],
    notification_topic_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> TrainingBackend:
    """AWS Batch on EC2 GPU instances, which cost nothing between runs; one job per project."""
    training = BatchTraining(
        "training",
        BatchTrainingArgs(
            compute=cfg.compute,
            projects={name: BatchProject(train, image_refs[name]) for name, train in trainings_of(cfg).items()},
            spot=cfg.spot,
            subnets=cfg.subnets,
            name_prefix=name_prefix,
            bucket_name=storage.bucket_name,
            bucket_arn=storage.bucket_arn,
            bucket_kms_key_arn=storage.kms_key_arn,
            train_repository_arn=registry.repository_arns["train"],
            notification_topic_arn=notification_topic_arn,
            log_retention_days=90 if cfg.is_prod else 14,
        ),
        opts=opts,
    )
    return TrainingBackend(
        train_now_commands=training.submit_commands,
        exports={
            "jobQueue": training.job_queue,
            "trainingLogGroup": training.log_group,
            "describeJobCommand": training.describe_command,
            "logsCommand": training.logs_command,
        },
        project_exports={name: {"jobDefinition": definition} for name, definition in training.job_definitions.items()},
    )


def cronjob_backend(
    cfg: StackConfig,
    *,
    image_refs: Mapping[str, pulumi.Input[str]],
    cluster: Cluster,
    placement: Placement,
    opts: pulumi.ResourceOptions,
) -> TrainingBackend:
    """A CronJob per project on the serving cluster, beside the model servers."""
    cronjobs = {
        name: TrainingCronJob(
            f"training-{name}",
            TrainingCronJobArgs(
                project=name,
                training=train,
                image_ref=image_refs[name],
                placement=placement,
                gpu_nodes_start_from_zero=cluster.gpu_nodes_start_from_zero,
            ),
            opts=opts.merge(renamed(name, "training")),
        )
        for name, train in trainings_of(cfg).items()
    }
    return TrainingBackend(
        train_now_commands={name: cronjob.run_now_command for name, cronjob in cronjobs.items()},
        service_accounts={name: cronjob.service_account for name, cronjob in cronjobs.items()},
    )
