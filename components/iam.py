"""IAM shared by the components: the roles they make (path, boundary, trust) and their policy documents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws


IAM_PATH = "/mlops/"
"""Every role, user and instance profile the program creates lives here; the deployer may touch nothing else."""
BOUNDARY_POLICY = "mlops-workload-boundary"
"""The permissions boundary every role and user gets: docs/workload-boundary.json, created once (README)."""
EKS_SERVICE_PATH = f"{IAM_PATH}eks/"
"""Where the two roles EKS Auto Mode acts as live (the cluster's, the nodes'): the only path the deployer
may create a role with the EKS service boundary on."""
EKS_SERVICE_BOUNDARY_POLICY = "mlops-eks-service-boundary"
"""Their boundary instead: docs/eks-service-boundary.json, what Auto Mode's managed policies allow (its
nodes, volumes, load balancers and network interfaces), which the workload boundary allows none of."""


def workload_boundary_arn(opts: pulumi.InvokeOutputOptions) -> pulumi.Output[str]:
    """The boundary's ARN in the caller's account (the deployer policy refuses roles without it)."""
    return _project_policy_arn(BOUNDARY_POLICY, opts)


def eks_service_boundary_arn(opts: pulumi.InvokeOutputOptions) -> pulumi.Output[str]:
    """The EKS service boundary's ARN in the caller's account (for roles under `EKS_SERVICE_PATH` only)."""
    return _project_policy_arn(EKS_SERVICE_BOUNDARY_POLICY, opts)


def _project_policy_arn(name: str, opts: pulumi.InvokeOutputOptions) -> pulumi.Output[str]:
    account = aws.get_caller_identity_output(opts=opts).account_id
    partition = aws.get_partition_output(opts=opts).partition
    return pulumi.Output.concat("arn:", partition, ":iam::", account, f":policy{IAM_PATH}{name}")


def assumable_role(
    name: str,
    *,
    trust: pulumi.Input[Mapping[str, Any]],
    policy: pulumi.Input[Mapping[str, Any]],
    policy_name: str,
    parent: pulumi.Resource,
    description: str | None = None,
    role_name: str | None = None,
    max_session_duration: int | None = None,
    tags: Mapping[str, str] | None = None,
    aliases: Sequence[pulumi.Input[str | pulumi.Alias]] = (),
    policy_aliases: Sequence[pulumi.Input[str | pulumi.Alias]] = (),
) -> aws.iam.Role:
    """A role that `trust` lets a service (or a web-identity principal) assume, allowed `policy` inline.

    Under the project's path, with the workload boundary: the deployer may create no other role
    (but EKS Auto Mode's two, with the EKS service boundary under `EKS_SERVICE_PATH`, components/eks/roles.py).
    `aliases` and `policy_aliases` are the role's and its policy's names before a rename.
    """
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        name,
        name=role_name,
        description=description,
        assume_role_policy=pulumi.Output.json_dumps(trust),
        path=IAM_PATH,
        permissions_boundary=workload_boundary_arn(pulumi.InvokeOutputOptions(parent=parent)),
        max_session_duration=max_session_duration,
        tags=dict(tags) if tags else None,
        opts=child.merge(pulumi.ResourceOptions(aliases=list(aliases))),
    )
    aws.iam.RolePolicy(
        policy_name,
        role=role.name,
        policy=pulumi.Output.json_dumps(policy),
        opts=child.merge(pulumi.ResourceOptions(aliases=list(policy_aliases))),
    )
    return role


def assumable_by(service: str) -> dict[str, Any]:
    """A trust policy that lets one AWS service (e.g. `ec2.amazonaws.com`) assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def assumable_by_service_for(
    service: str, *, source_account: pulumi.Input[str], source_arn: pulumi.Input[str] | None = None
) -> dict[str, Any]:
    """A trust policy for `service` acting for this account only, and for one resource of it when
    `source_arn` is given (no confused deputy)."""
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": source_account}}
    if source_arn is not None:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole", "Condition": condition}
        ],
    }


def _key_through(
    service: str, sid: str, actions: list[str], *, kms_key_arn: pulumi.Input[str], region: pulumi.Input[str]
) -> dict[str, Any]:
    """Use a KMS key only as `service` (s3, sns) does on the caller's behalf, never directly."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": kms_key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": pulumi.Output.concat(f"{service}.", region, ".amazonaws.com")}},
    }


def _bucket_key_through_s3(
    actions: list[str], *, kms_key_arn: pulumi.Input[str], region: pulumi.Input[str]
) -> dict[str, Any]:
    return _key_through("s3", "UseBucketKeyThroughS3", actions, kms_key_arn=kms_key_arn, region=region)


def topic_publisher_policy(*, topic_arn: pulumi.Input[str], kms_key_arn: pulumi.Input[str], region: str) -> dict[str, Any]:
    """Publish to one SNS topic and nothing else, and use its KMS key only through SNS: a publisher to an
    encrypted topic needs GenerateDataKey and Decrypt on the key (AWS's SNS encryption docs)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "PublishToTopic", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn},
            _key_through(
                "sns", "UseTopicKeyThroughSns", ["kms:GenerateDataKey", "kms:Decrypt"], kms_key_arn=kms_key_arn, region=region
            ),
        ],
    }


def model_reader_policy(
    *, bucket_arn: pulumi.Input[str], kms_key_arn: pulumi.Input[str], region: pulumi.Input[str], model: str
) -> dict[str, Any]:
    """Serving: read `models/<model>/` and nothing else.

    Listing that prefix lets a missing object answer 404 (not 403), which is what the
    server reports while no model has been promoted yet.
    """
    prefix = f"models/{model}/"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListModelPrefix",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}},
            },
            {
                "Sid": "ReadModel",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": pulumi.Output.concat(bucket_arn, f"/{prefix}*"),
            },
            _bucket_key_through_s3(["kms:Decrypt"], kms_key_arn=kms_key_arn, region=region),
        ],
    }


def model_writer_policy(
    *,
    bucket_arn: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    region: pulumi.Input[str],
    model: str,
    data: str,
) -> dict[str, Any]:
    """Training, wherever it runs: read its data, write `models/<model>/`, nothing else.

    `data` is `training.data` as written. `builtin:` data needs no read. A key in the data
    bucket is readable, that object only. An `s3://other-bucket/key` gets a grant for that
    object, but the other bucket's policy (and its KMS key, if it has one) must let the
    role in too.
    """
    models_prefix = f"models/{model}/"
    read: list[pulumi.Input[str]] = []
    listed = [f"{models_prefix}*"]
    if data.startswith("s3://"):
        read.append(f"arn:aws:s3:::{data.removeprefix('s3://')}")
    elif not data.startswith("builtin:"):
        key = data.lstrip("/")
        read.append(pulumi.Output.concat(bucket_arn, "/", key))
        listed.append(key)
    statements: list[dict[str, Any]] = [
        {
            # Listing lets a missing data key answer 404 (exit 3, "data not found") rather than 403.
            "Sid": "ListOwnPrefixes",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": listed}},
        },
        {
            "Sid": "WriteModels",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": pulumi.Output.concat(bucket_arn, f"/{models_prefix}*"),
        },
    ]
    if read:
        statements.append(
            {"Sid": "ReadData", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": read}
        )
    # GenerateDataKey to write SSE-KMS objects; Decrypt to read data kept in the bucket.
    statements.append(_bucket_key_through_s3(["kms:Decrypt", "kms:GenerateDataKey"], kms_key_arn=kms_key_arn, region=region))
    return {"Version": "2012-10-17", "Statement": statements}
