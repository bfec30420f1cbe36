"""Where a Batch training job runs: GPU instances that exist only while a job needs them, and the queue.

The security group, the instances' role and profile, the launch template, the managed compute
environment (minvCpus 0, one instance at most) and the job queue that feeds it.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.batch.args import BatchTrainingArgs, longest_timeout_minutes, instance_sizes
from components.iam import IAM_PATH, assumable_by, assumable_role
from components.network import TrainingNetwork

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
# How long a job may wait RUNNABLE at the head of the queue before Batch cancels it: no GPU
# capacity for `pipeline.runnableTimeoutMinutes`; a job the environment can never run, at once.
CAPACITY_REASON = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"
MISCONFIGURATION_REASONS = (
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",  # maxvCpus below what the job asks for
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",  # no allowed instance type can hold the job
    "MISCONFIGURATION:EC2_INSTANCE_CONFIGURATION_UNSUPPORTED",  # an instance Batch cannot launch as configured
)
"""The RUNNABLE reasons Batch can act on besides capacity (AWS Batch User Guide, "Automatic
remediation with jobStateTimeLimitActions"). Waiting never mends them."""
MISFIT_WAIT_SECONDS = 600  # the API's minimum maxTimeSeconds: fail as fast as Batch allows
ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def gpu_queue(name: str, args: BatchTrainingArgs, *, network: TrainingNetwork, parent: pulumi.Resource) -> aws.batch.JobQueue:
    """The job queue, on a compute environment that launches one GPU instance per job and none between."""
    compute_environment = gpu_compute_environment(name, args, network=network, parent=parent)
    return aws.batch.JobQueue(
        f"{name}-queue",
        name=f"{args.name_prefix}-train",
        priority=1,
        state="ENABLED",
        compute_environment_orders=[
            aws.batch.JobQueueComputeEnvironmentOrderArgs(compute_environment=compute_environment.arn, order=1)
        ],
        # Updated in place (UpdateJobQueue), never a new queue: only `name` replaces one
        # (terraform-provider-aws internal/service/batch/job_queue.go; offline/data/replacements.json).
        job_state_time_limit_actions=[
            # Capacity may come back (spot, or on-demand in another zone): wait, then give up, so
            # the run fails and notifies instead of holding the queue (and the next run) for ever.
            _cancel_while_runnable(CAPACITY_REASON, after_seconds=args.runnable_timeout_minutes * 60),
            *(_cancel_while_runnable(reason, after_seconds=MISFIT_WAIT_SECONDS) for reason in MISCONFIGURATION_REASONS),
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _cancel_while_runnable(reason: str, *, after_seconds: int) -> aws.batch.JobQueueJobStateTimeLimitActionArgs:
    return aws.batch.JobQueueJobStateTimeLimitActionArgs(
        state="RUNNABLE", reason=reason, action="CANCEL", max_time_seconds=after_seconds
    )


def gpu_compute_environment(
    name: str, args: BatchTrainingArgs, *, network: TrainingNetwork, parent: pulumi.Resource
) -> aws.batch.ComputeEnvironment:
    """A managed EC2 environment of the allowed GPU types: minvCpus 0, room for one instance.

    It takes a name prefix, so when a change does force a new one the provider creates it
    first (Pulumi's default create-before-delete), the queue is updated to point at it, and
    only then is the old one disabled and deleted: no "found existing JobQueue relationship"
    failure.
    """
    security_group = https_out_only(name, network=network, parent=parent)
    profile = instance_profile(name, train_repository_arn=args.train_repository_arn, parent=parent)
    launch_template = gpu_launch_template(name, name_prefix=args.name_prefix, parent=parent)
    return aws.batch.ComputeEnvironment(
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
            max_vcpus=max(size.vcpus for size in instance_sizes(args.compute)),  # one instance: one run at a time
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
            job_execution_timeout_minutes=min(longest_timeout_minutes(args), 360),
        ),
        state="ENABLED",
        opts=pulumi.ResourceOptions(parent=parent),
    )


def https_out_only(name: str, *, network: TrainingNetwork, parent: pulumi.Resource) -> aws.ec2.SecurityGroup:
    """The instances' security group: nothing in, HTTPS out."""
    return aws.ec2.SecurityGroup(
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
        opts=pulumi.ResourceOptions(parent=parent),
    )


def instance_profile(
    name: str, *, train_repository_arn: pulumi.Input[str], parent: pulumi.Resource
) -> aws.iam.InstanceProfile:
    """The instances' own identity: the ECS agent registers, pulls the image (ECR) and ships the
    container's logs. The job itself never uses it (it has its own job role)."""
    child = pulumi.ResourceOptions(parent=parent)
    partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=parent)).partition
    role = assumable_role(
        f"{name}-instance-role",
        description="Batch GPU instances: the ECS agent (register, pull from ECR, write logs).",
        trust=assumable_by("ec2.amazonaws.com"),
        # The managed policy may pull from every repository; this keeps the instances to the training image's.
        policy=instance_pull_only_from(train_repository_arn),
        policy_name=f"{name}-instance-ecr",
        parent=parent,
    )
    aws.iam.RolePolicyAttachment(
        f"{name}-instance-ecs",
        role=role.name,
        policy_arn=pulumi.Output.concat(
            "arn:", partition, ":iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
        ),
        opts=child,
    )
    return aws.iam.InstanceProfile(f"{name}-instance-profile", role=role.name, path=IAM_PATH, opts=child)


def gpu_launch_template(name: str, *, name_prefix: str, parent: pulumi.Resource) -> aws.ec2.LaunchTemplate:
    """IMDSv2 with a hop limit of 1 and an encrypted gp3 root volume.

    There from the start: adding or removing a launch template later replaces the compute
    environment; changing its version updates it in place.
    """
    return aws.ec2.LaunchTemplate(
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
            aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type="volume", tags={"Name": f"{name_prefix}-train"})
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )


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
