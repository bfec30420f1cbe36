"""Training on a Kubernetes cluster: the train image as a CronJob that writes to the bucket.

Used where the cluster trains: `compute.kind: none` (CPU training on the serving
cluster) now, and the GKE/EKS GPU pools next. Same pod security as serving (components/pods.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.config import TrainConfig
from components.iam import model_writer_policy
from components.identity import PodAccess
from components.pods import Placement, workload_identity, RestrictedContainer, labels, restricted_pod_spec
from components.project_names import project_labels, project_tags, trainer_name
from components.training_command import TRAINING_IMAGE_ENV, training_command

NAME = "train"
CONTAINER = "train"
# images/train exit codes that no retry can fix: 2 bad command line, 3 data not found,
# 4 access denied, 5 unusable data, 6 accuracy gate failed (a result, not an error).
FINAL_EXIT_CODES = [2, 3, 4, 5, 6]
BACKOFF_LIMIT = 2  # retries of other failures (a bug, S3 unavailable, a lost node)
ATTEMPTS = BACKOFF_LIMIT + 1
# A GPU node from zero (GKE: the VM, the GPU driver, then the image pull onto its empty disk)
# takes 5 to 15 minutes. The Job's clock runs while its pod waits for the node, and the pod's
# from the moment it is bound, before the pull: each attempt gets this on top of its timeout.
GPU_NODE_START_SECONDS = 15 * 60
STARTING_DEADLINE_SECONDS = 60 * 60  # a run missed by more (cluster down) is skipped, not queued
HISTORY = 3  # finished Jobs (and their pods' logs) kept, per outcome
# The training config has no size keys: the builtin and CSV models train in seconds on one core.
CPU = "1"
MEMORY = "2Gi"


def attempt_deadline_seconds(timeout_minutes: int, *, gpu_node_from_zero: bool) -> int:
    """How long one attempt may take (the pod's activeDeadlineSeconds): `training.timeoutMinutes`,
    as a Batch attempt, plus the time a GPU node takes to start where one must start from zero."""
    return timeout_minutes * 60 + (GPU_NODE_START_SECONDS if gpu_node_from_zero else 0)


def run_deadline_seconds(attempt_seconds: int, *, attempts: int = ATTEMPTS) -> int:
    """How long one run may take, every attempt at its deadline: the Job's activeDeadlineSeconds,
    and the upper bound `make cost` prices a run at."""
    return attempts * attempt_seconds


@dataclass(frozen=True)
class TrainingCronJobArgs:
    project: str
    """The ML project trained: the job's --model, so artifacts go to s3://<bucket>/models/<project>/."""
    training: TrainConfig
    """Schedule (5-field cron, UTC), GPUs per run, the data, the gate and the parameters."""
    image_ref: pulumi.Input[str]
    """The project's training image by digest."""
    placement: Placement
    """The namespace, identities, pull secret, bucket and kubectl the workload uses."""
    gpu_nodes_start_from_zero: bool = False
    """The cluster adds a GPU node for a run (a pool that scales from zero): a GPU run waits for it."""
    suspended: bool = False
    """The CronJob starts nothing on its schedule (`pipeline.kind: airflow`): Airflow runs the
    project on that schedule, with a Job made from this CronJob's job template."""


class TrainingCronJob(pulumi.ComponentResource):
    """A ServiceAccount with its own credential, and the CronJob that trains on `training.schedule`."""

    run_now_command: pulumi.Output[str]
    """Creates a Job from the CronJob: a training run now (a suspended CronJob too)."""

    name: pulumi.Output[str]
    """The CronJob's name in the workloads' namespace."""

    service_account: str
    """The workloads' ServiceAccount name: what a cloud identity trusts."""

    def __init__(self, name: str, args: TrainingCronJobArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:training:TrainingCronJob", name, None, opts)
        self.service_account = trainer_name(args.project)
        child = pulumi.ResourceOptions(parent=self)
        selector = labels(NAME, instance=args.placement.instance) | project_labels(args.project)

        access, service_account = workload_identity(
            name,
            placement=args.placement,
            service_account=self.service_account,
            policy=model_writer_policy(**args.placement.bucket_scope, model=args.project, data=args.training.data),
            selector=selector,
            parent=self,
            tags=project_tags(args.project),
        )
        job_args = pulumi.Output.from_input(args.placement.bucket_name).apply(
            lambda bucket: training_command(args.project, args.training, bucket_name=bucket)
        )
        attempt_seconds = attempt_deadline_seconds(
            args.training.timeout_minutes,
            gpu_node_from_zero=args.gpu_nodes_start_from_zero and args.training.gpus > 0,
        )
        container = RestrictedContainer(
            name=CONTAINER,
            image=args.image_ref,
            cpu=CPU,
            memory=MEMORY,
            gpus=args.training.gpus,
            args=job_args,
            # The pod's own image, so its metadata.json names the digest it ran.
            env=[k8s.core.v1.EnvVarArgs(name=TRAINING_IMAGE_ENV, value=args.image_ref)],
        )
        cronjob = k8s.batch.v1.CronJob(
            f"{name}-cronjob",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=self.service_account, namespace=args.placement.namespace, labels=selector
            ),
            spec=k8s.batch.v1.CronJobSpecArgs(
                schedule=args.training.schedule,  # 5-field cron, as Kubernetes takes it
                time_zone="Etc/UTC",  # training.schedule is UTC, whatever the control plane's zone
                concurrency_policy="Forbid",  # never two runs at once
                # Unset without Airflow, so such a stack's CronJob is exactly what it was before.
                suspend=True if args.suspended else None,
                starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
                successful_jobs_history_limit=HISTORY,
                failed_jobs_history_limit=HISTORY,
                job_template=k8s.batch.v1.JobTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=selector),
                    spec=_job_spec(
                        container,
                        attempt_seconds=attempt_seconds,
                        selector=selector,
                        service_account_name=service_account.metadata.name,
                        access=access,
                        image_pull_secret=args.placement.image_pull_secret,
                    ),
                ),
            ),
            opts=child,
        )
        self.name = cronjob.metadata.name
        self.run_now_command = pulumi.Output.concat(
            args.placement.kubectl,
            " create job -n ",
            args.placement.namespace,
            " --from=cronjob/",
            cronjob.metadata.name,
            f" {self.service_account}-manual-$(date +%s)",
        )
        self.register_outputs({"runNowCommand": self.run_now_command})


def _job_spec(
    container: RestrictedContainer,
    *,
    attempt_seconds: int,
    selector: Mapping[str, str],
    service_account_name: pulumi.Input[str],
    access: PodAccess,
    image_pull_secret: pulumi.Input[str] | None,
) -> k8s.batch.v1.JobSpecArgs:
    """One run: up to BACKOFF_LIMIT retries of one pod, each attempt and the whole run bounded."""
    return k8s.batch.v1.JobSpecArgs(
        backoff_limit=BACKOFF_LIMIT,
        active_deadline_seconds=run_deadline_seconds(attempt_seconds),  # all attempts
        pod_failure_policy=_pod_failure_policy(),
        template=k8s.core.v1.PodTemplateSpecArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(labels=selector),
            spec=restricted_pod_spec(
                container,
                service_account_name=service_account_name,
                access=access,
                image_pull_secret=image_pull_secret,
                restart_policy="Never",  # a pod failure policy needs it
                active_deadline_seconds=attempt_seconds,  # one attempt
            ),
        ),
    )


def _pod_failure_policy() -> k8s.batch.v1.PodFailurePolicyArgs:
    return k8s.batch.v1.PodFailurePolicyArgs(
        rules=[
            # A failed gate or bad input fails the run at once: retrying gives the same answer.
            k8s.batch.v1.PodFailurePolicyRuleArgs(
                action="FailJob",
                on_exit_codes=k8s.batch.v1.PodFailurePolicyOnExitCodesRequirementArgs(
                    container_name=CONTAINER, operator="In", values=FINAL_EXIT_CODES
                ),
            ),
            # An evicted or preempted pod is retried without using up the backoff limit.
            k8s.batch.v1.PodFailurePolicyRuleArgs(
                action="Ignore",
                on_pod_conditions=[
                    k8s.batch.v1.PodFailurePolicyOnPodConditionsPatternArgs(type="DisruptionTarget", status="True")
                ],
            ),
        ]
    )
