"""What a Batch training job is: the training image on the train.py contract, its role, its logs.

The job definition asks for what fits the smallest allowed instance, runs as its own role
(read its data, write `models/<model>/`), logs to its own group, and retries only what the
infrastructure broke.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.batch.args import BatchTrainingArgs, instance_sizes
from components.config import training_data_uri
from components.iam import assumable_by, assumable_role, model_writer_policy
from components.instance_types import InstanceSize

# Exit codes of images/train/train.py (see images/README.md).
EXIT_GATE_FAILED = 6
EXIT_STORAGE_UNAVAILABLE = 7
ATTEMPTS = 3
LOG_STREAM_PREFIX = "train"


@dataclass(frozen=True)
class TrainingJob:
    definition: aws.batch.JobDefinition
    log_group: aws.cloudwatch.LogGroup


def training_job(
    name: str, args: BatchTrainingArgs, *, region: pulumi.Output[str], parent: pulumi.Resource
) -> TrainingJob:
    """The job definition, with the role it runs as and the log group it writes to."""
    child = pulumi.ResourceOptions(parent=parent)
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name=f"/aws/batch/{args.name_prefix}-train",
        retention_in_days=args.log_retention_days,
        opts=child,
    )
    role = job_role(name, args, region=region, parent=parent)
    definition = aws.batch.JobDefinition(
        f"{name}-job",
        name=f"{args.name_prefix}-train",
        type="container",
        platform_capabilities=["EC2"],
        propagate_tags=True,
        container_properties=pulumi.Output.json_dumps(
            container_properties(
                image=args.train_image_ref,
                bucket_name=args.bucket_name,
                model_name=args.model_name,
                data=args.training.data,
                resources=job_resources(instance_sizes(args.compute), gpus=args.training.gpus),
                region=region,
                job_role_arn=role.arn,
                log_group=log_group.name,
            )
        ),
        retry_strategy=retry_strategy(),
        # A hung run is stopped, not left holding the GPU; Batch does not retry a timeout.
        timeout=aws.batch.JobDefinitionTimeoutArgs(attempt_duration_seconds=args.training.timeout_minutes * 60),
        opts=child,
    )
    return TrainingJob(definition=definition, log_group=log_group)


def job_role(name: str, args: BatchTrainingArgs, *, region: pulumi.Output[str], parent: pulumi.Resource) -> aws.iam.Role:
    """The job's own identity (from the ECS agent, not the instance): its data in, its models out."""
    return assumable_role(
        f"{name}-job-role",
        description="The training job: read its data, write models/<model>/ in the data bucket.",
        trust=assumable_by("ecs-tasks.amazonaws.com"),
        policy=model_writer_policy(
            bucket_arn=args.bucket_arn,
            kms_key_arn=args.bucket_kms_key_arn,
            region=region,
            model=args.model_name,
            data=args.training.data,
        ),
        policy_name=f"{name}-job-access",
        parent=parent,
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
    bucket_name: pulumi.Input[str],
    model_name: str,
    data: str,
    resources: JobResources,
    region: pulumi.Input[str],
    job_role_arn: pulumi.Input[str],
    log_group: pulumi.Input[str],
) -> dict[str, Any]:
    """The job definition's container: the image by digest and the train.py contract."""
    requirements = [
        {"type": "VCPU", "value": str(resources.vcpus)},
        {"type": "MEMORY", "value": str(resources.memory_mib)},
    ]
    if resources.gpus > 0:
        requirements.append({"type": "GPU", "value": str(resources.gpus)})
    bucket = pulumi.Output.from_input(bucket_name)
    return {
        "image": image,
        # The image's ENTRYPOINT is `python /app/train.py`; these are its arguments.
        "command": [
            "--data",
            bucket.apply(lambda name: training_data_uri(data, name)),
            "--model",
            model_name,
            "--output",
            pulumi.Output.concat("s3://", bucket, "/models"),
        ],
        "jobRoleArn": job_role_arn,
        "resourceRequirements": requirements,
        # boto3 finds its region in AWS_DEFAULT_REGION (botocore does not read AWS_REGION).
        "environment": [{"name": "AWS_DEFAULT_REGION", "value": region}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": LOG_STREAM_PREFIX,
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
