"""GPU training compute: one private EC2 instance that runs the training image on a timer."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import assumable_by
from components.config import ComputeConfig, TrainingConfig
from components.network import NetworkArgs, TrainingNetwork

# Deep Learning Base OSS Nvidia Driver GPU AMI, Ubuntu 22.04: NVIDIA driver, Docker, the NVIDIA
# container toolkit and the AWS CLI come preinstalled. AWS keeps this parameter at the newest build.
DLAMI_PARAMETER = "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id"
ROOT_VOLUME_GIB = 150  # the DLAMI's own root snapshot is ~100 GiB; the rest holds image layers
HTTPS = 443
SERVICE = "mlops-train"
RUN_SCRIPT = "/usr/local/bin/mlops-train"
RUN_NOW = f"systemctl start --no-block {SERVICE}.service"
_ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


@dataclass(frozen=True)
class TrainingInstanceArgs:
    compute: ComputeConfig
    """Instance type and the rest of `mlops:compute`."""
    training: TrainingConfig
    """When training runs (`on_calendar`), on how many GPUs, on which data."""
    spot: bool
    """Run on persistent spot capacity (stopped, not terminated, on interruption)."""
    single_nat_gateway: bool
    """One NAT for every zone (dev) rather than one per zone (prod)."""
    model_name: str
    """The training job's --model: artifacts go to s3://<bucket>/models/<model>/."""
    bucket_name: pulumi.Input[str]
    """The data bucket: training data in, model artifacts out."""
    bucket_arn: pulumi.Input[str]
    bucket_kms_key_arn: pulumi.Input[str]
    """The bucket's SSE-KMS key: reading and writing objects needs it."""
    train_image_ref: pulumi.Input[str]
    """The training image by digest: <acct>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:..."""
    train_repository_arn: pulumi.Input[str]
    """The only repository the instance may pull from."""


class GpuTrainingInstance(pulumi.ComponentResource):
    """A GPU instance in a private subnet, reachable only through SSM, training on a schedule.

    The box is stateless: everything it produces goes to the bucket, so replacing it (a new AMI,
    a new image digest) loses nothing.

    Public attributes: `instance_id`, and `run_now_command`, the `aws ssm send-command` call that
    starts a training run at once.
    """

    instance_id: pulumi.Output[str]
    run_now_command: pulumi.Output[str]

    def __init__(self, name: str, args: TrainingInstanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:compute:GpuTrainingInstance", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        lookup = pulumi.InvokeOutputOptions(parent=self)  # through this component's provider
        image_ref = pulumi.Output.from_input(args.train_image_ref)
        # The registry lives in the stack's region, so its host names the region too.
        region = image_ref.apply(lambda ref: registry_region(registry_host(ref)))

        network = TrainingNetwork(
            f"{name}-net", NetworkArgs(single_nat_gateway=args.single_nat_gateway), opts=child
        )

        role = aws.iam.Role(
            f"{name}-role",
            description="The GPU training instance: SSM, the data bucket, pulls of the train image.",
            assume_role_policy=assumable_by("ec2.amazonaws.com"),
            opts=child,
        )
        partition = aws.get_partition_output(opts=lookup).partition
        aws.iam.RolePolicyAttachment(
            f"{name}-ssm",
            role=role.name,
            policy_arn=pulumi.Output.concat("arn:", partition, ":iam::aws:policy/AmazonSSMManagedInstanceCore"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-access",
            role=role.name,
            policy=pulumi.Output.json_dumps(
                _access_policy(
                    bucket_arn=args.bucket_arn,
                    kms_key_arn=args.bucket_kms_key_arn,
                    repository_arn=args.train_repository_arn,
                    region=region,
                )
            ),
            opts=child,
        )
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, opts=child)

        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=network.vpc_id,
            description="GPU training instance: no inbound, HTTPS out only",
            # Empty ingress is authoritative: a rule added by hand is removed on the next `up`.
            ingress=[],
            # ECR, S3 and SSM all speak HTTPS. DNS goes to the VPC resolver, which security
            # groups do not filter, so no port 53 rule is needed.
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    description="HTTPS to AWS APIs (ECR, S3, SSM)",
                    protocol="tcp",
                    from_port=HTTPS,
                    to_port=HTTPS,
                    cidr_blocks=["0.0.0.0/0"],
                )
            ],
            tags={"Name": f"{name}-sg"},
            opts=child,
        )

        # A new AMI build replaces the instance on the next `up`, which is fine: it is stateless.
        ami = aws.ssm.get_parameter_output(name=DLAMI_PARAMETER, opts=lookup).value
        user_data = pulumi.Output.all(image_ref, args.bucket_name).apply(
            lambda values: render_user_data(
                image_ref=values[0],
                bucket_name=values[1],
                model_name=args.model_name,
                data=args.training.data,
                gpus=args.training.gpus,
                on_calendar=args.training.on_calendar,
            )
        )
        instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=ami,
            instance_type=args.compute.instance_type,
            subnet_id=network.private_subnet_ids[0],
            vpc_security_group_ids=[security_group.id],
            iam_instance_profile=profile.name,
            # No public IP and no key pair: the only way in is SSM Session Manager.
            associate_public_ip_address=False,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",  # IMDSv2 only
                # The training container is one network hop past the host and reads the role's
                # credentials from IMDS; with the default limit of 1 its requests would be dropped.
                http_put_response_hop_limit=2,
            ),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                volume_type="gp3",
                volume_size=ROOT_VOLUME_GIB,
                encrypted=True,
                delete_on_termination=True,
            ),
            instance_market_options=_spot_market() if args.spot else None,
            user_data=user_data,
            # User data only runs at first boot, so a new image digest or schedule needs a new box.
            user_data_replace_on_change=True,
            tags={"Name": f"{name}-gpu"},
            opts=child,
        )

        self.instance_id = instance.id
        self.run_now_command = pulumi.Output.concat(
            "aws ssm send-command --region ",
            region,
            " --instance-ids ",
            instance.id,
            ' --document-name AWS-RunShellScript --comment "mlops: run training now"',
            f""" --parameters 'commands=["{RUN_NOW}"]'""",
        )
        self.register_outputs({"instanceId": self.instance_id, "runNowCommand": self.run_now_command})


def _spot_market() -> aws.ec2.InstanceInstanceMarketOptionsArgs:
    # Persistent + stop: an interruption stops the box instead of deleting it, and EC2 starts
    # it again when capacity returns; the timer's Persistent=true then catches up a missed run.
    return aws.ec2.InstanceInstanceMarketOptionsArgs(
        market_type="spot",
        spot_options=aws.ec2.InstanceInstanceMarketOptionsSpotOptionsArgs(
            spot_instance_type="persistent",
            instance_interruption_behavior="stop",
        ),
    )


def _access_policy(
    *,
    bucket_arn: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    repository_arn: pulumi.Input[str],
    region: pulumi.Input[str],
) -> dict[str, Any]:
    """Read data from and write models to the data bucket; pull the train image. Nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ListDataBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
            {
                "Sid": "ReadDataWriteModels",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
                "Resource": pulumi.Output.concat(bucket_arn, "/*"),
            },
            {
                "Sid": "UseBucketKeyThroughS3",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": pulumi.Output.concat("s3.", region, ".amazonaws.com")}},
            },
            # ECR has no resource-level permission for the login token; AWS only accepts "*".
            {"Sid": "RegistryLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Sid": "PullTrainImage",
                "Effect": "Allow",
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Resource": repository_arn,
            },
        ],
    }


def registry_host(image_ref: str) -> str:
    """The registry part of an image reference: everything before the first '/'."""
    return image_ref.split("/", 1)[0]


def registry_region(host: str) -> str:
    """The region in an ECR host name, <account>.dkr.ecr.<region>.amazonaws.com."""
    match = _ECR_HOST.match(host)
    if match is None:
        raise ValueError(f"'{host}' is not an ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com)")
    return match["region"]


def data_uri(data: str, bucket_name: str) -> str:
    """`training.data` as the job's --data: builtin: and s3:// as given, else a key in the data bucket."""
    if data.startswith(("builtin:", "s3://")):
        return data
    return f"s3://{bucket_name}/{data.lstrip('/')}"


def render_user_data(
    *, image_ref: str, bucket_name: str, model_name: str, data: str, gpus: int, on_calendar: str
) -> str:
    """The instance's first-boot script: a systemd timer that runs the training image.

    The docker command lives in a shell script rather than in ExecStart= because systemd gives
    '%', '$' and '\\' their own meanings there; in a script, shlex.quote is the whole story.
    """
    values = (image_ref, bucket_name, model_name, data, on_calendar)
    if any(not value.isprintable() for value in values):
        raise ValueError("user data values must be printable, one-line strings")
    host = registry_host(image_ref)
    region = registry_region(host)
    gpu_flag = f"--gpus {gpus} " if gpus > 0 else ""
    output = f"s3://{bucket_name}/models"
    q = shlex.quote
    run_script = f"""\
#!/bin/bash
# One training run: log in to ECR, then run the image by digest; the job writes to the bucket.
set -euo pipefail
aws ecr get-login-password --region {q(region)} | docker login --username AWS --password-stdin {q(host)}
exec docker run --rm {gpu_flag}--env AWS_REGION={q(region)} {q(image_ref)} \\
  --data {q(data_uri(data, bucket_name))} --model {q(model_name)} --output {q(output)}
"""
    service = f"""\
[Unit]
Description=mlops training run
Wants=network-online.target
After=network-online.target docker.service
Requires=docker.service

[Service]
Type=oneshot
ExecStart={RUN_SCRIPT}
"""
    timer = f"""\
[Unit]
Description=mlops training schedule

[Timer]
OnCalendar={on_calendar}
Persistent=true

[Install]
WantedBy=timers.target
"""
    return f"""\
#!/bin/bash
# Installs the mlops training timer. Runs once, at first boot (cloud-init).
set -euo pipefail
cat > {RUN_SCRIPT} <<'MLOPS_EOF'
{run_script}MLOPS_EOF
chmod 0755 {RUN_SCRIPT}
cat > /etc/systemd/system/{SERVICE}.service <<'MLOPS_EOF'
{service}MLOPS_EOF
cat > /etc/systemd/system/{SERVICE}.timer <<'MLOPS_EOF'
{timer}MLOPS_EOF
systemctl daemon-reload
systemctl enable --now {SERVICE}.timer
"""
