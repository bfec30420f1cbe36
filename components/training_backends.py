"""Where training runs, chosen once: AWS Batch (`compute.kind: ec2`) or a CronJob per project on the cluster.

The stack sees every backend the same way, as a `TrainingBackend`: per project, the command
that starts a run now and the ServiceAccount its runs use where they run on the cluster
(whose cloud role the stack then exports); the backend's own shared outputs; and what the
pipeline (Airflow) needs to start runs there, `PipelineTargets`. With `pipeline.kind: airflow`
the backend starts nothing on a schedule of its own: Batch has no schedule, and each CronJob is
suspended (its job template is what a pipeline run copies into a Job).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.batch import BatchProject, BatchTraining, BatchTrainingArgs
from components.clusters import Cluster
from components.config import StackConfig, TrainConfig
from components.migration import renamed
from components.network import TrainingNetwork
from components.pods import Placement
from components.registry import ContainerRegistry
from components.storage import DataBucket
from components.training_cronjob import TrainingCronJob, TrainingCronJobArgs
from components.training_runner import allow_runner


@dataclass(frozen=True)
class PipelineTargets:
    """What Airflow needs to run each project's training on this backend."""

    projects: Mapping[str, Mapping[str, pulumi.Output[str]]]
    """Per project: {"job_definition": <ARN with revision>} (Batch) or {"cronjob": <name>} (cluster)."""
    job_queue: pulumi.Output[str] | None
    """Batch: the queue's ARN, which the BatchOperator submits to; None on the cluster."""
    policy_statements: Sequence[Mapping[str, Any]]
    """IAM statements Airflow's identity needs (Outputs inside; serialised with the policy): on
    Batch, submitting, following and stopping the jobs and registering reproduce revisions
    (components/batch/pipeline_access.py); none on the cluster."""
    allow_runner: Callable[[str, str, pulumi.ResourceOptions], None]
    """(Airflow's namespace, its ServiceAccount, options with the cluster's provider): on the
    cluster, lets that ServiceAccount run the CronJobs' Jobs in the workloads' namespace
    (components/training_runner.py); on Batch, nothing."""


def _no_runner(namespace: str, service_account: str, opts: pulumi.ResourceOptions) -> None:
    """Batch jobs run outside the cluster: Airflow needs no Kubernetes grant for them."""


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
    pipeline: PipelineTargets = field(
        default_factory=lambda: PipelineTargets(projects={}, job_queue=None, policy_statements=[], allow_runner=_no_runner)
    )
    """Where the pipeline starts each project's runs, and what it may do to."""


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
    network: TrainingNetwork | None = None,
) -> TrainingBackend:
    """Batch with `compute.kind: ec2`; otherwise the cluster trains (gke on its GPU pool, none on its CPUs).

    `image_refs` is each training project's image by digest. Batch tells `notification_topic_arn`
    of its failures; on the cluster, the alert rules watch the training Jobs instead. `network` is
    the stack's, where Batch shares it with an EKS cluster.
    """
    if cfg.compute.kind == "ec2":
        return batch_backend(
            cfg, name_prefix=name_prefix, storage=storage, registry=registry, image_refs=image_refs,
            notification_topic_arn=notification_topic_arn, network=network, opts=in_region,
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
    network: TrainingNetwork | None = None,
) -> TrainingBackend:
    """AWS Batch on EC2 GPU instances, which cost nothing between runs; one job per project (in the
    stack's `network` where there is one, else in its own)."""
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
            runnable_timeout_minutes=cfg.pipeline.runnable_timeout_minutes,
            scheduled=cfg.pipeline.kind == "none",
            log_retention_days=90 if cfg.is_prod else 14,
            network=network,
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
        pipeline=PipelineTargets(
            projects={name: {"job_definition": arn} for name, arn in training.job_definition_arns.items()},
            job_queue=training.job_queue_arn,
            policy_statements=training.pipeline_statements,
            allow_runner=_no_runner,
        ),
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
                suspended=cfg.pipeline.kind == "airflow",
            ),
            opts=opts.merge(renamed(name, "training")),
        )
        for name, train in trainings_of(cfg).items()
    }

    def runner(namespace: str, service_account: str, runner_opts: pulumi.ResourceOptions) -> None:
        allow_runner(
            "training-runner",
            workloads_namespace=placement.namespace,
            instance=placement.instance,
            cronjobs=[cronjob.service_account for cronjob in cronjobs.values()],
            runner_namespace=namespace,
            service_account=service_account,
            opts=runner_opts,
        )

    return TrainingBackend(
        train_now_commands={name: cronjob.run_now_command for name, cronjob in cronjobs.items()},
        service_accounts={name: cronjob.service_account for name, cronjob in cronjobs.items()},
        pipeline=PipelineTargets(
            projects={name: {"cronjob": cronjob.name} for name, cronjob in cronjobs.items()},
            job_queue=None,
            policy_statements=[],
            allow_runner=runner,
        ),
    )
