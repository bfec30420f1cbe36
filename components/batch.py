"""GPU training on AWS Batch: nothing runs between jobs; a schedule or one command starts a run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.config import ComputeConfig, TrainingConfig, training_data_uri
from components.iam import IAM_PATH, assumable_by, assumable_by_service_for, model_writer_policy, workload_boundary_arn
from components.instance_types import GPU_INSTANCE_TYPES, InstanceSize
from components.network import NetworkArgs, TrainingNetwork

# The ECS-optimized Amazon Linux 2023 GPU AMI: NVIDIA driver, container toolkit and ECS agent.
# Batch picks the newest release it supports when the compute environment is created; it does
# not move an existing environment to a newer release on its own.
IMAGE_TYPE = "ECS_AL2023_NVIDIA"
# Allocation strategies that let Batch update a compute environment in place (instance types,
# subnets, launch template version, spot on/off...). BEST_FIT, the default, makes the provider
# replace the environment on any such change.
SPOT_STRATEGY = "SPOT_PRICE_CAPACITY_OPTIMIZED"
ON_DEMAND_STRATEGY = "BEST_FIT_PROGRESSIVE"
ROOT_VOLUME_GIB = 60  # the AMI's root snapshot plus the pulled training image
HTTPS = 443
# Exit codes of images/train/train.py (see images/README.md).
EXIT_GATE_FAILED = 6
EXIT_STORAGE_UNAVAILABLE = 7
# How long a job may wait RUNNABLE at the head of the queue before Batch cancels it.
CAPACITY_WAIT_SECONDS = 3600  # no spot/on-demand GPU capacity in any allowed type for an hour
MISFIT_WAIT_SECONDS = 600  # no allowed instance can ever hold the job: fail fast (600 is the API minimum)
ATTEMPTS = 3
LOG_STREAM_PREFIX = "train"


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


class BatchTraining(pulumi.ComponentResource):
    """A managed EC2 compute environment that scales from zero, its queue, the job and its schedule.

    `minvCpus` is 0 and no `desiredvCpus` is set, so no instance runs between jobs: Batch
    launches one when a job is RUNNABLE and terminates it when the queue is empty.

    The compute environment takes a name prefix, so when a change does force a new one the
    provider creates it first (Pulumi's default create-before-delete), the queue is updated to
    point at it, and only then is the old one disabled and deleted: no "found existing
    JobQueue relationship" failure.

    Public attributes: `job_queue`, `job_definition` (names), `log_group`, and the commands
    `submit_command`, `describe_command` and `logs_command`.
    """

    job_queue: pulumi.Output[str]
    job_definition: pulumi.Output[str]
    log_group: pulumi.Output[str]
    submit_command: pulumi.Output[str]
    describe_command: pulumi.Output[str]
    logs_command: pulumi.Output[str]

    def __init__(self, name: str, args: BatchTrainingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:batch:BatchTraining", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        lookup = pulumi.InvokeOutputOptions(parent=self)  # through this component's provider
        region = aws.get_region_output(opts=lookup).region
        account = aws.get_caller_identity_output(opts=lookup).account_id
        partition = aws.get_partition_output(opts=lookup).partition
        sizes = [GPU_INSTANCE_TYPES[t] for t in args.compute.instance_type]
        fit = job_resources(sizes, gpus=args.training.gpus)
        # Every role lives under the project's path with the workload boundary (docs/deployer-policy.json).
        boundary = workload_boundary_arn(lookup)

        network = TrainingNetwork(f"{name}-net", NetworkArgs(subnets=args.subnets), opts=child)

        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=network.vpc_id,
            description="Batch GPU training instances: no inbound, HTTPS out only",
            # Empty ingress is authoritative: a rule added by hand is removed on the next `up`.
            # With it, a public IPv4 in dev serves outbound calls only.
            ingress=[],
            # ECR, ECS, S3 and CloudWatch Logs all speak HTTPS. DNS goes to the VPC resolver and
            # time to the link-local Amazon Time Sync, which security groups do not filter.
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    description="HTTPS to AWS APIs (ECR, ECS, S3, CloudWatch Logs)",
                    protocol="tcp",
                    from_port=HTTPS,
                    to_port=HTTPS,
                    cidr_blocks=["0.0.0.0/0"],
                )
            ],
            tags={"Name": f"{name}-sg"},
            opts=child,
        )

        # The instances' own identity: the ECS agent registers, pulls the image (ECR) and ships
        # the container's logs. The job itself never uses it (it gets the job role below).
        instance_role = aws.iam.Role(
            f"{name}-instance-role",
            description="Batch GPU instances: the ECS agent (register, pull from ECR, write logs).",
            assume_role_policy=assumable_by("ec2.amazonaws.com"),
            path=IAM_PATH,
            permissions_boundary=boundary,
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-instance-ecs",
            role=instance_role.name,
            policy_arn=pulumi.Output.concat(
                "arn:", partition, ":iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
            ),
            opts=child,
        )
        # The managed policy may pull from every repository; this keeps the instances to the training image's.
        aws.iam.RolePolicy(
            f"{name}-instance-ecr",
            role=instance_role.name,
            policy=pulumi.Output.json_dumps(instance_pull_only_from(args.train_repository_arn)),
            opts=child,
        )
        profile = aws.iam.InstanceProfile(
            f"{name}-instance-profile", role=instance_role.name, path=IAM_PATH, opts=child
        )

        # There from the start: adding or removing a launch template later replaces the compute
        # environment; changing its version updates it in place.
        launch_template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            description="Batch GPU training instances: IMDSv2 only, encrypted gp3 root volume",
            update_default_version=True,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",  # IMDSv2 only
                # 1: a token cannot travel past the host, so a container on the bridge network
                # cannot read the instance role; the job has its own role from the ECS agent.
                http_put_response_hop_limit=1,
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",  # the AL2023 root device
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_type="gp3",
                        volume_size=ROOT_VOLUME_GIB,
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type="volume", tags={"Name": f"{args.name_prefix}-train"}
                )
            ],
            opts=child,
        )

        compute_environment = aws.batch.ComputeEnvironment(
            f"{name}-ce",
            # A prefix, not a name: a replacement gets a new name, so it can exist beside the old one.
            name_prefix=f"{args.name_prefix}-gpu-",
            type="MANAGED",
            # No service_role: Batch uses its service-linked role AWSServiceRoleForBatch (and
            # creates it if the account has none). The provider updates in place only with it.
            compute_resources=aws.batch.ComputeEnvironmentComputeResourcesArgs(
                type="SPOT" if args.spot else "EC2",
                allocation_strategy=SPOT_STRATEGY if args.spot else ON_DEMAND_STRATEGY,
                min_vcpus=0,  # nothing runs between jobs
                max_vcpus=max(size.vcpus for size in sizes),  # one instance: one run at a time
                instance_types=list(args.compute.instance_type),
                subnets=network.subnet_ids,
                security_group_ids=[security_group.id],
                instance_role=profile.arn,
                launch_template=aws.batch.ComputeEnvironmentComputeResourcesLaunchTemplateArgs(
                    launch_template_id=launch_template.id,
                    version=launch_template.latest_version.apply(str),
                ),
                ec2_configurations=[
                    aws.batch.ComputeEnvironmentComputeResourcesEc2ConfigurationArgs(image_type=IMAGE_TYPE)
                ],
                tags={"Name": f"{args.name_prefix}-train"},
            ),
            update_policy=aws.batch.ComputeEnvironmentUpdatePolicyArgs(
                # An infrastructure update waits for running jobs rather than killing them...
                terminate_jobs_on_update=False,
                # ...for as long as a job may run (the API allows at most 360 minutes).
                job_execution_timeout_minutes=min(args.training.timeout_minutes, 360),
            ),
            state="ENABLED",
            opts=child,
        )

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/batch/{args.name_prefix}-train",
            retention_in_days=args.log_retention_days,
            opts=child,
        )

        job_role = aws.iam.Role(
            f"{name}-job-role",
            description="The training job: read its data, write models/<model>/ in the data bucket.",
            assume_role_policy=assumable_by("ecs-tasks.amazonaws.com"),
            path=IAM_PATH,
            permissions_boundary=boundary,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-job-access",
            role=job_role.name,
            policy=pulumi.Output.json_dumps(
                model_writer_policy(
                    bucket_arn=args.bucket_arn,
                    kms_key_arn=args.bucket_kms_key_arn,
                    region=region,
                    model=args.model_name,
                    data=args.training.data,
                )
            ),
            opts=child,
        )

        job_definition = aws.batch.JobDefinition(
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
                    resources=fit,
                    region=region,
                    job_role_arn=job_role.arn,
                    log_group=log_group.name,
                )
            ),
            retry_strategy=retry_strategy(),
            # A hung run is stopped, not left holding the GPU; Batch does not retry a timeout.
            timeout=aws.batch.JobDefinitionTimeoutArgs(attempt_duration_seconds=args.training.timeout_minutes * 60),
            opts=child,
        )

        job_queue = aws.batch.JobQueue(
            f"{name}-queue",
            name=f"{args.name_prefix}-train",
            priority=1,
            state="ENABLED",
            compute_environment_orders=[
                aws.batch.JobQueueComputeEnvironmentOrderArgs(compute_environment=compute_environment.arn, order=1)
            ],
            job_state_time_limit_actions=[
                # Capacity may come back (spot, or on-demand in another zone): wait, then give up.
                aws.batch.JobQueueJobStateTimeLimitActionArgs(
                    state="RUNNABLE",
                    reason="CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
                    action="CANCEL",
                    max_time_seconds=CAPACITY_WAIT_SECONDS,
                ),
                # No allowed instance type can ever hold the job: waiting will not help.
                aws.batch.JobQueueJobStateTimeLimitActionArgs(
                    state="RUNNABLE",
                    reason="MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
                    action="CANCEL",
                    max_time_seconds=MISFIT_WAIT_SECONDS,
                ),
            ],
            opts=child,
        )

        schedule_role = aws.iam.Role(
            f"{name}-schedule-role",
            description="EventBridge Scheduler: submit the training job to its queue, nothing else.",
            assume_role_policy=pulumi.Output.json_dumps(assumable_by_service_for("scheduler.amazonaws.com", source_account=account)),
            path=IAM_PATH,
            permissions_boundary=boundary,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-schedule-submit",
            role=schedule_role.name,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "SubmitTrainingJob",
                            "Effect": "Allow",
                            "Action": "batch:SubmitJob",
                            "Resource": [
                                job_queue.arn,
                                # The job definition by name (its latest revision) and every revision.
                                job_definition.arn_prefix,
                                pulumi.Output.concat(job_definition.arn_prefix, ":*"),
                            ],
                        }
                    ],
                }
            ),
            opts=child,
        )
        aws.scheduler.Schedule(
            f"{name}-schedule",
            name=f"{args.name_prefix}-train",
            description=f"Training on cron '{args.training.schedule}' (UTC)",
            schedule_expression=args.training.scheduler_expression,
            schedule_expression_timezone="UTC",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                # The universal target: Scheduler calls batch:SubmitJob itself.
                arn="arn:aws:scheduler:::aws-sdk:batch:submitJob",
                role_arn=schedule_role.arn,
                input=pulumi.Output.json_dumps(
                    {
                        "JobName": f"{args.name_prefix}-train-scheduled",
                        "JobQueue": job_queue.arn,
                        # The name without a revision: Batch runs the latest ACTIVE revision.
                        "JobDefinition": job_definition.name,
                    }
                ),
                # A failed SubmitJob (throttling, say) is retried for up to an hour, then dropped.
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_event_age_in_seconds=3600, maximum_retry_attempts=10
                ),
            ),
            opts=child,
        )

        self.job_queue = job_queue.name
        self.job_definition = job_definition.name
        self.log_group = log_group.name
        self.submit_command = pulumi.Output.concat(
            "aws batch submit-job --region ",
            region,
            " --job-queue ",
            job_queue.name,
            " --job-definition ",
            job_definition.name,
            f" --job-name {args.name_prefix}-train-manual --query jobId --output text",
        )
        describe = pulumi.Output.concat("aws batch describe-jobs --region ", region, ' --jobs "$JOB_ID"')
        self.describe_command = pulumi.Output.concat(
            describe,
            " --query 'jobs[0].{status:status,reason:statusReason,attempts:length(attempts),"
            "exitCode:container.exitCode,logStream:container.logStreamName}'",
        )
        self.logs_command = pulumi.Output.concat(
            "aws logs tail ",
            log_group.name,
            " --region ",
            region,
            ' --follow --log-stream-names "$(',
            describe,
            " --query 'jobs[0].container.logStreamName' --output text)\"",
        )
        self.register_outputs(
            {
                "jobQueue": self.job_queue,
                "jobDefinition": self.job_definition,
                "logGroup": self.log_group,
                "submitCommand": self.submit_command,
                "describeCommand": self.describe_command,
                "logsCommand": self.logs_command,
            }
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


ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def instance_pull_only_from(repository_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Deny image pulls from any repository but `repository_arn` (the login token stays on `*`)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PullOnlyTheTrainingRepository",
                "Effect": "Deny",
                "Action": ECR_PULL_ACTIONS,
                "NotResource": repository_arn,
            }
        ],
    }
