"""What Airflow's cloud identity may do: the pipeline's own S3 and SNS calls, and its training backend's.

Every task of every project runs as the one `airflow` ServiceAccount, so its policy is the union
of what the tasks need, each narrowed to its prefix: write task logs under `airflow/logs/`; read the
models (evaluate scores the served version and the new one) and write exactly each project's
`LATEST` (promote); read each project's training data (validate); tell the stack's topic of a
failure. Training itself runs as the project's own identity (its job role, its trainer's
ServiceAccount); Airflow only starts it, with the backend's `policy_statements`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from components.config import TrainConfig
from components.iam import topic_publisher_policy
from components.pipeline.values import LOGS_PREFIX
from components.pods import BucketScope


def data_objects(bucket_arn: pulumi.Input[str], data: str) -> list[pulumi.Input[str]]:
    """The object `train.data` names (as components/iam.model_writer_policy reads it); none for builtin data."""
    if data.startswith("builtin:"):
        return []
    if data.startswith("s3://"):
        return [f"arn:aws:s3:::{data.removeprefix('s3://')}"]
    return [pulumi.Output.concat(bucket_arn, "/", data.lstrip("/"))]


def data_keys(data: str) -> list[str]:
    """The keys in the stack's bucket that `train.data` names (listed, so a missing one answers 404)."""
    return [] if data.startswith(("builtin:", "s3://")) else [data.lstrip("/")]


def airflow_policy(
    bucket: BucketScope,
    *,
    trainings: Mapping[str, TrainConfig],
    topic_arn: pulumi.Input[str],
    topic_key_arn: pulumi.Input[str],
    training_statements: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    bucket_arn = bucket["bucket_arn"]
    listed = [f"{LOGS_PREFIX}/*", "models/*", *(key for train in trainings.values() for key in data_keys(train.data))]
    data = [arn for train in trainings.values() for arn in data_objects(bucket_arn, train.data)]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ListPipelinePrefixes",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": listed}},
        },
        {
            "Sid": "TaskLogs",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": pulumi.Output.concat(bucket_arn, f"/{LOGS_PREFIX}/*"),
        },
        {
            "Sid": "ReadModels",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": pulumi.Output.concat(bucket_arn, "/models/*"),
        },
        {
            "Sid": "PromoteModels",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": [pulumi.Output.concat(bucket_arn, f"/models/{project}/LATEST") for project in sorted(trainings)],
        },
    ]
    if data:
        statements.append({"Sid": "ReadData", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": data})
    statements.append(
        {
            "Sid": "UseBucketKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": bucket["kms_key_arn"],
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{bucket['region']}.amazonaws.com"}},
        }
    )
    statements += topic_publisher_policy(topic_arn=topic_arn, kms_key_arn=topic_key_arn, region=bucket["region"])["Statement"]
    statements += [dict(statement) for statement in training_statements]
    return {"Version": "2012-10-17", "Statement": statements}
