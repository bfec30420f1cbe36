"""What a project's Batch training job is: its training image on the train.py contract, its role, its logs.

Each project's job definition asks for what fits the smallest allowed instance, runs as its
own role (read its data, write `models/<project>/`), logs to the stack's training log group
under its own stream prefix, and retries only what the infrastructure broke.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.batch.args import BatchTrainingArgs, instance_sizes
from components.iam import assumable_by, assumable_role, model_writer_policy
from components.instance_types import InstanceSize
from components.migration import old_names, renamed
from components.project_names import job_definition_name, project_tags
from components.training_command import TRAINING_IMAGE_ENV, training_command

# Exit codes of images/train/train.py (see images/README.md).
EXIT_GATE_FAILED = 6
EXIT_STORAGE_UNAVAILABLE = 7
ATTEMPTS = 3


def training_log_group(name: str, args: BatchTrainingArgs, *, parent: pulumi.Resource) -> aws.cloudwatch.LogGroup:
    """The one log group of the stack's training jobs; each project logs to its own streams."""
    return aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name=f"/aws/batch/{args.name_prefix}-train",
        retention_in_days=args.log_retention_days,
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass(frozen=True)
class TrainingJob:
    definition: aws.batch.JobDefinition
    role: aws.iam.Role
    """What the job runs as; whoever registers a revision of the definition passes it (iam:PassRole)."""


def training_job(
    name: str,
    args: BatchTrainingArgs,
    project: str,
    *,
    region: pulumi.Output[str],
    log_group: aws.cloudwatch.LogGroup,
    parent: pulumi.Resource,
) -> TrainingJob:
    """A project's job definition, with the role it runs as; it logs under the project's stream prefix."""
    training = args.projects[project]
    role = job_role(name, args, project, region=region, parent=parent)
    definition = aws.batch.JobDefinition(
        f"{name}-{project}-job",
        name=job_definition_name(args.name_prefix, project),
        type="container",
        platform_capabilities=["EC2"],
        propagate_tags=True,
        container_properties=pulumi.Output.json_dumps(
            container_properties(
                image=training.image_ref,
                command=pulumi.Output.from_input(args.bucket_name).apply(
                    lambda bucket: training_command(project, training.training, bucket_name=bucket)
                ),
                resources=job_resources(instance_sizes(args.compute), gpus=training.training.gpus),
                region=region,
                job_role_arn=role.arn,
                log_group=log_group.name,
                log_stream_prefix=project,
            )
        ),
        retry_strategy=retry_strategy(),
        # A hung run is stopped, not left holding the GPU; Batch does not retry a timeout.
        timeout=aws.batch.JobDefinitionTimeoutArgs(attempt_duration_seconds=training.training.timeout_minutes * 60),
        tags=project_tags(project),
        opts=pulumi.ResourceOptions(parent=parent).merge(renamed(project, f"{name}-job")),
    )
    return TrainingJob(definition, role)


def revisions(family_arn: pulumi.Input[str]) -> list[pulumi.Input[str]]:
    """A job definition family by name (its latest revision) and every revision of it, as IAM
    matches a SubmitJob or RegisterJobDefinition."""
    return [family_arn, pulumi.Output.concat(family_arn, ":*")]


def job_role(
    name: str, args: BatchTrainingArgs, project: str, *, region: pulumi.Output[str], parent: pulumi.Resource
) -> aws.iam.Role:
    """The job's own identity (from the ECS agent, not the instance): its data in, `models/<project>/` out."""
    return assumable_role(
        f"{name}-{project}-job-role",
        description=f"The {project} training job: read its data, write models/{project}/ in the data bucket.",
        trust=assumable_by("ecs-tasks.amazonaws.com"),
        policy=model_writer_policy(
            bucket_arn=args.bucket_arn,
            kms_key_arn=args.bucket_kms_key_arn,
            region=region,
            model=project,
            data=args.projects[project].training.data,
        ),
        policy_name=f"{name}-{project}-job-access",
        parent=parent,
        tags=project_tags(project),
        aliases=old_names(project, f"{name}-job-role"),
        policy_aliases=old_names(project, f"{name}-job-access"),
    )


@dataclass(frozen=True)
class JobResources:
    vcpus: int
    memory_mib: int
    gpus: int


def job_resources(sizes: list[InstanceSize], *, gpus: int) -> JobResources:
    """What one job asks for, so that it fits the smallest allowed instance with room to spare.

    The ECS agent registers less memory than the instance has (the OS, Docker, the agent and
    the NVIDIA daemons keep theirs), and a job that asks for the nominal figure fits nowhere
    and stays RUNNABLE. So leave max(2 GiB, 10%) of memory and one vCPU to the host.
    """
    vcpus = min(size.vcpus for size in sizes)
    memory_mib = min(size.memory_gib for size in sizes) * 1024
    headroom = max(2048, memory_mib // 10)
    return JobResources(
        vcpus=max(1, vcpus - 1),
        memory_mib=(memory_mib - headroom) // 256 * 256,
        gpus=gpus,
    )


def container_properties(
    *,
    image: pulumi.Input[str],
    command: pulumi.Input[list[str]],
    resources: JobResources,
    region: pulumi.Input[str],
    job_role_arn: pulumi.Input[str],
    log_group: pulumi.Input[str],
    log_stream_prefix: str,
) -> dict[str, Any]:
    """The job definition's container: the image by digest and the train.py contract."""
    requirements = [
        {"type": "VCPU", "value": str(resources.vcpus)},
        {"type": "MEMORY", "value": str(resources.memory_mib)},
    ]
    if resources.gpus > 0:
        requirements.append({"type": "GPU", "value": str(resources.gpus)})
    return {
        "image": image,
        # The image's ENTRYPOINT is the entry point; these are its arguments.
        "command": command,
        "jobRoleArn": job_role_arn,
        "resourceRequirements": requirements,
        "environment": [
            # boto3 finds its region in AWS_DEFAULT_REGION (botocore does not read AWS_REGION).
            {"name": "AWS_DEFAULT_REGION", "value": region},
            # The job's own image, so its metadata.json names the digest it ran. Changing the
            # container properties registers a new revision in place: container_properties is
            # not ForceNew (terraform-provider-aws internal/service/batch/job_definition.go).
            {"name": TRAINING_IMAGE_ENV, "value": image},
        ],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                # <project>/<container>/<task id>: each project's runs in their own streams.
                "awslogs-stream-prefix": log_stream_prefix,
            },
        },
        # train.py writes only to S3; a small tmpfs covers any library that wants /tmp.
        "readonlyRootFilesystem": True,
        "privileged": False,
        "user": "10001",  # the image's own non-root user, stated so a base image change cannot undo it
        "linuxParameters": {
            "initProcessEnabled": True,  # SIGTERM at the timeout reaches python, not a shell
            "tmpfs": [{"containerPath": "/tmp", "size": 256, "mountOptions": ["rw", "nosuid", "nodev", "noexec"]}],
        },
    }


def retry_strategy() -> aws.batch.JobDefinitionRetryStrategyArgs:
    """Retry what the infrastructure broke; never retry a result or a bad input.

    Batch tries the rules (at most 5) in order and takes the first match; with no match it
    retries, so the last two rules catch everything else and exit.
    """
    return aws.batch.JobDefinitionRetryStrategyArgs(
        attempts=ATTEMPTS,
        evaluate_on_exits=[
            # Spot reclaimed the instance, or the host failed: "Host EC2 (instance i-...) terminated."
            aws.batch.JobDefinitionRetryStrategyEvaluateOnExitArgs(on_status_reason="Host EC2*", action="RETRY"),
            # S3 unreachable or no credentials yet: worth another attempt.
            aws.batch.JobDefinitionRetryStrategyEvaluateOnExitArgs(
                on_exit_code=str(EXIT_STORAGE_UNAVAILABLE), action="RETRY"
            ),
            # Below the accuracy gate: a real result, stored and not promoted. Never retried.
            aws.batch.JobDefinitionRetryStrategyEvaluateOnExitArgs(on_exit_code=str(EXIT_GATE_FAILED), action="EXIT"),
            # Every other exit (bad input 2-5, a bug 1): another attempt would fail the same way.
            aws.batch.JobDefinitionRetryStrategyEvaluateOnExitArgs(on_exit_code="*", action="EXIT"),
            # No exit code but a reason (the image cannot be pulled, say): not fixed by retrying.
            aws.batch.JobDefinitionRetryStrategyEvaluateOnExitArgs(on_reason="*", action="EXIT"),
        ],
    )
