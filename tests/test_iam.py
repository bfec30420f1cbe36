"""The IAM documents components/iam.py writes, exactly as the program sends them.

One statement too wide lets a workload read another project's models; one too narrow fails
the workload at run time with AccessDenied, which no offline check would otherwise show.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.iam import BOUNDARY_POLICY, IAM_PATH, assumable_by, assumable_by_service_for
from offline.engine import ACCOUNT_ID, Recording, run_program, stack_config_with

VIA_S3 = {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


def document(run: Recording, name: str, key: str = "policy") -> dict[str, Any]:
    return json.loads(run.named(name).inputs[key])


@pytest.fixture(scope="module")
def slashed_key() -> Recording:
    """dev with its data as a key written with a leading slash, as a user may write it."""
    return run_program("dev", stack_config_with("dev", {"mlops:projects": {"iris": {"train": {"data": "/datasets/train.csv"}}}}))


@pytest.fixture(scope="module")
def other_bucket() -> Recording:
    """dev with its data in a bucket the program does not own."""
    return run_program("dev", stack_config_with("dev", {"mlops:projects": {"iris": {"train": {"data": "s3://other-bucket/train/data.csv"}}}}))


def test_roles_live_under_the_project_path_with_the_project_boundary() -> None:
    # The deployer policy may create only /mlops/ roles carrying this boundary: other names fail `up`.
    assert (IAM_PATH, BOUNDARY_POLICY) == ("/mlops/", "mlops-workload-boundary")


@pytest.mark.parametrize(
    ("role", "service"),
    [("training-instance-role", "ec2.amazonaws.com"), ("training-iris-job-role", "ecs-tasks.amazonaws.com")],
)
def test_a_service_role_trusts_exactly_its_service(dev: Recording, role: str, service: str) -> None:
    # Another principal (or a second statement) lets something else take the role's rights.
    assert document(dev, role, "assumeRolePolicy") == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def test_a_service_acting_for_one_resource_is_pinned_to_it(prod: Recording) -> None:
    # Without both conditions, S3 replicating any account's bucket could assume the role.
    bucket = prod.get("aws:s3/bucket:Bucket", "data").state["arn"]
    assert json.loads(prod.get("aws:iam/role:Role", "data-replication").inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": bucket},
                },
            }
        ],
    }


def test_serving_reads_exactly_its_models(dev: Recording) -> None:
    bucket = dev.outputs["bucketArn"]
    assert document(dev, "serving-iris-identity-policy") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListModelPrefix",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket,
                "Condition": {"StringLike": {"s3:prefix": ["models/iris/", "models/iris/*"]}},
            },
            {"Sid": "ReadModel", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket}/models/iris/*"},
            {
                "Sid": "UseBucketKeyThroughS3",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": dev.get("aws:kms/key:Key", "data-key").state["arn"],
                "Condition": VIA_S3,
            },
        ],
    }


def writer_statements(run: Recording, bucket: str, *, listed: list[str]) -> list[dict[str, Any]]:
    """The statements every training policy has: list its prefixes, write its models."""
    return [
        {
            "Sid": "ListOwnPrefixes",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
            "Condition": {"StringLike": {"s3:prefix": listed}},
        },
        {"Sid": "WriteModels", "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{bucket}/models/iris/*"},
    ]


def key_statement(run: Recording) -> dict[str, Any]:
    return {
        "Sid": "UseBucketKeyThroughS3",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": run.get("aws:kms/key:Key", "data-key").state["arn"],
        "Condition": VIA_S3,
    }


def test_training_on_builtin_data_reads_nothing(dev: Recording) -> None:
    bucket = dev.outputs["bucketArn"]
    assert document(dev, "training-iris-job-access") == {
        "Version": "2012-10-17",
        "Statement": [*writer_statements(dev, bucket, listed=["models/iris/*"]), key_statement(dev)],
    }


def test_training_on_a_bucket_key_reads_that_object_only(prod_on_aws: Recording) -> None:
    bucket = prod_on_aws.outputs["bucketArn"]
    assert document(prod_on_aws, "training-iris-job-access") == {
        "Version": "2012-10-17",
        "Statement": [
            *writer_statements(prod_on_aws, bucket, listed=["models/iris/*", "datasets/iris.csv"]),
            {
                "Sid": "ReadData",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": [f"{bucket}/datasets/iris.csv"],
            },
            key_statement(prod_on_aws),
        ],
    }


def test_a_leading_slash_does_not_change_the_granted_key(slashed_key: Recording) -> None:
    # S3 keys have no leading slash: a grant on "bucket//datasets/..." matches nothing (AccessDenied).
    bucket = slashed_key.outputs["bucketArn"]
    found = {s["Sid"]: s for s in document(slashed_key, "training-iris-job-access")["Statement"]}
    assert found["ReadData"]["Resource"] == [f"{bucket}/datasets/train.csv"]
    assert found["ListOwnPrefixes"]["Condition"] == {"StringLike": {"s3:prefix": ["models/iris/*", "datasets/train.csv"]}}


def test_training_on_another_bucket_reads_that_object_only(other_bucket: Recording) -> None:
    # The data bucket's key and prefixes are still the only ones listed: the other bucket grants its own.
    bucket = other_bucket.outputs["bucketArn"]
    assert document(other_bucket, "training-iris-job-access") == {
        "Version": "2012-10-17",
        "Statement": [
            *writer_statements(other_bucket, bucket, listed=["models/iris/*"]),
            {
                "Sid": "ReadData",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": ["arn:aws:s3:::other-bucket/train/data.csv"],
            },
            key_statement(other_bucket),
        ],
    }


# --- assumable_role, on its own ------------------------------------------------------------

ROLE_PROGRAM = '''
import pulumi
from components.iam import assumable_by, assumable_role

parent = pulumi.ComponentResource("test:index:Owner", "owner")
assumable_role(
    "worker",
    trust=assumable_by("ecs-tasks.amazonaws.com"),
    policy={"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
    policy_name="worker-access",
    parent=parent,
    **SETTINGS,
)
'''


def role_alone(tmp_path: Path, **settings: Any) -> Recording:
    """A program that makes one role with `assumable_role` and nothing else."""
    program = tmp_path / "program.py"
    program.write_text(f"SETTINGS = {settings!r}\n{ROLE_PROGRAM}")
    return run_program("dev", {}, program=program)


def test_an_assumable_role_is_under_the_project_path_with_the_boundary_and_its_trust(tmp_path: Path) -> None:
    run = role_alone(tmp_path)
    role = run.get("aws:iam/role:Role", "worker")
    assert role.inputs == {
        "assumeRolePolicy": json.dumps(assumable_by("ecs-tasks.amazonaws.com")),
        "path": "/mlops/",
        "permissionsBoundary": f"arn:aws:iam::{ACCOUNT_ID}:policy/mlops/mlops-workload-boundary",
    }
    assert role.parent == run.named("owner").urn


def test_an_assumable_role_has_exactly_its_inline_policy(tmp_path: Path) -> None:
    run = role_alone(tmp_path)
    [policy] = run.of_type("aws:iam/rolePolicy:RolePolicy")
    assert (policy.name, policy.parent) == ("worker-access", run.named("owner").urn)
    assert policy.inputs["role"] == run.get("aws:iam/role:Role", "worker").state["name"]
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    ]


def test_an_assumable_role_takes_a_name_a_description_and_a_session_length(tmp_path: Path) -> None:
    run = role_alone(tmp_path, role_name="mlops-dev-worker", description="the worker", max_session_duration=3600)
    inputs = run.get("aws:iam/role:Role", "worker").inputs
    assert (inputs["name"], inputs["description"], inputs["maxSessionDuration"]) == ("mlops-dev-worker", "the worker", 3600)


def test_a_service_role_without_a_resource_is_pinned_to_this_account() -> None:
    assert assumable_by_service_for("scheduler.amazonaws.com", source_account="1") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "1"}},
            }
        ],
    }
