"""What a Batch job is (components/batch/job.py): its definition, its container, its role, its logs."""

from __future__ import annotations

import fnmatch
import json

import pytest

from components.batch.job import JobResources, job_resources
from components.instance_types import GPU_INSTANCE_TYPES, InstanceSize
from offline.engine import Recording
from tests.batch.recorded import JOB_DEFINITION, LOG_GROUP, as_list, container, requirements, statements
from tests.support import RunWith


# --- the job definition --------------------------------------------------------------------


def retry_decision(run: Recording, *, exit_code: int | None = None, reason: str | None = None, status_reason: str = "") -> str:
    """What Batch does after a failed attempt: the first rule whose every condition matches.

    A condition matches a present value by glob; Batch retries when no rule matches.
    """
    observed = {"onExitCode": None if exit_code is None else str(exit_code), "onReason": reason, "onStatusReason": status_reason}
    for rule in run.one(JOB_DEFINITION).inputs["retryStrategy"]["evaluateOnExits"]:
        conditions = {key: pattern for key, pattern in rule.items() if key != "action"}
        if all(observed[key] is not None and fnmatch.fnmatchcase(observed[key], pattern) for key, pattern in conditions.items()):
            return rule["action"]
    return "RETRY"


def test_job_runs_the_pushed_image_by_digest(dev: Recording) -> None:
    image = container(dev)["image"]
    assert image == dev.outputs["imageRefs"]["train"]
    assert "@sha256:" in image


def test_job_writes_models_to_the_bucket(dev: Recording) -> None:
    command = container(dev)["command"]
    assert command[command.index("--model") + 1] == "iris"
    assert command[command.index("--output") + 1] == f"s3://{dev.outputs['bucketName']}/models"


def test_builtin_data_is_passed_as_is(dev: Recording) -> None:
    command = container(dev)["command"]
    assert command[command.index("--data") + 1] == "builtin:iris"


def test_a_data_key_is_read_from_the_data_bucket(prod_on_aws: Recording) -> None:
    command = container(prod_on_aws)["command"]
    assert command[command.index("--data") + 1] == f"s3://{prod_on_aws.outputs['bucketName']}/datasets/iris.csv"


def test_job_asks_for_the_configured_gpus(dev: Recording, run_with: RunWith) -> None:
    assert requirements(dev)["GPU"] == 1
    run = run_with("dev", **{"mlops:compute": {"instanceType": "g5.12xlarge"}, "mlops:projects": {"iris": {"train": {"gpus": 4}}}})
    assert requirements(run)["GPU"] == 4


def test_job_without_gpus_asks_for_none(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:projects": {"iris": {"train": {"gpus": 0}}}})
    assert "GPU" not in requirements(run)


@pytest.mark.parametrize("types", [["g4dn.xlarge"], ["g6e.xlarge", "g5.2xlarge"], ["g5.12xlarge", "p4d.24xlarge"]])
def test_job_fits_the_smallest_allowed_type_with_room_for_the_agent(run_with: RunWith, types: list[str]) -> None:
    run = run_with("dev", **{"mlops:compute": {"instanceType": types}})
    asked = requirements(run)
    for name in types:
        size = GPU_INSTANCE_TYPES[name]
        assert asked["VCPU"] < size.vcpus
        assert asked["MEMORY"] <= size.memory_gib * 1024 - 2048, "at least 2 GiB left to the host"
        assert asked["GPU"] <= size.gpus


def test_job_sets_the_region_botocore_reads(dev: Recording) -> None:
    assert {"name": "AWS_DEFAULT_REGION", "value": "us-east-1"} in container(dev)["environment"]


def test_job_logs_to_the_training_log_group(dev: Recording) -> None:
    logging = container(dev)["logConfiguration"]
    assert logging["logDriver"] == "awslogs"
    assert logging["options"]["awslogs-group"] == dev.one(LOG_GROUP).inputs["name"]
    assert logging["options"]["awslogs-region"] == "us-east-1"


def test_logs_are_kept_for_a_bounded_time(dev: Recording, prod_on_aws: Recording) -> None:
    assert dev.one(LOG_GROUP).inputs["retentionInDays"] == 14
    assert prod_on_aws.one(LOG_GROUP).inputs["retentionInDays"] == 90


def test_attempt_timeout_follows_training_timeout(dev: Recording, run_with: RunWith) -> None:
    assert dev.one(JOB_DEFINITION).inputs["timeout"] == {"attemptDurationSeconds": 3600}
    run = run_with("dev", **{"mlops:projects": {"iris": {"train": {"timeoutMinutes": 15}}}})
    assert run.one(JOB_DEFINITION).inputs["timeout"] == {"attemptDurationSeconds": 900}


def test_job_is_attempted_three_times(dev: Recording) -> None:
    # One attempt: a single spot reclaim loses the night's run. More: a flaky host burns GPU hours.
    assert dev.one(JOB_DEFINITION).inputs["retryStrategy"]["attempts"] == 3


def test_retry_rules_are_exactly_these_in_this_order(dev: Recording) -> None:
    # Batch takes the first matching rule: a reordered or loosened rule retries a failed gate
    # (exit 6) or gives up on a spot reclaim.
    assert dev.one(JOB_DEFINITION).inputs["retryStrategy"]["evaluateOnExits"] == [
        {"onStatusReason": "Host EC2*", "action": "RETRY"},
        {"onExitCode": "7", "action": "RETRY"},
        {"onExitCode": "6", "action": "EXIT"},
        {"onExitCode": "*", "action": "EXIT"},
        {"onReason": "*", "action": "EXIT"},
    ]


def test_spot_interruption_is_retried(dev: Recording) -> None:
    assert retry_decision(dev, status_reason="Host EC2 (instance i-0123456789abcdef0) terminated.") == "RETRY"


def test_storage_outage_is_retried(dev: Recording) -> None:
    assert retry_decision(dev, exit_code=7, status_reason="Essential container in task exited") == "RETRY"


def test_failed_accuracy_gate_is_not_retried(dev: Recording) -> None:
    assert retry_decision(dev, exit_code=6, status_reason="Essential container in task exited") == "EXIT"


@pytest.mark.parametrize("exit_code", [1, 2, 3, 4, 5])
def test_bad_input_and_bugs_are_not_retried(dev: Recording, exit_code: int) -> None:
    assert retry_decision(dev, exit_code=exit_code, status_reason="Essential container in task exited") == "EXIT"


def test_an_image_that_cannot_be_pulled_is_not_retried(dev: Recording) -> None:
    reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    assert retry_decision(dev, reason=reason, status_reason="Task failed to start") == "EXIT"


def test_retry_rules_fit_the_batch_limit(dev: Recording) -> None:
    assert len(dev.one(JOB_DEFINITION).inputs["retryStrategy"]["evaluateOnExits"]) <= 5


def test_job_runs_on_ec2_only(dev: Recording) -> None:
    assert dev.one(JOB_DEFINITION).inputs["platformCapabilities"] == ["EC2"]


def test_job_definition_is_a_container_job_that_tags_its_tasks(dev: Recording) -> None:
    # Without propagated tags the ECS tasks carry no stack tag and the cost report misses them.
    inputs = dev.one(JOB_DEFINITION).inputs
    assert (inputs["type"], inputs["propagateTags"]) == ("container", True)


def test_prod_attempt_timeout_follows_its_training_timeout(prod_on_aws: Recording) -> None:
    assert prod_on_aws.one(JOB_DEFINITION).inputs["timeout"] == {"attemptDurationSeconds": 7200}


def test_a_long_timeout_is_kept_whole_on_the_job(long_run: Recording) -> None:
    # The 360-minute cap is the update policy's; the job itself may run its full 12 hours.
    assert long_run.one(JOB_DEFINITION).inputs["timeout"] == {"attemptDurationSeconds": 43200}


@pytest.mark.parametrize("stack", ["dev", "prod_on_aws"])
def test_job_asks_for_three_vcpus_14_gib_and_one_gpu_on_a_4_vcpu_16_gib_type(
    request: pytest.FixtureRequest, stack: str
) -> None:
    # g4dn.xlarge (dev) and g5.xlarge (prod): the nominal 4 vCPU / 16 GiB fits nowhere.
    assert container(request.getfixturevalue(stack))["resourceRequirements"] == [
        {"type": "VCPU", "value": "3"},
        {"type": "MEMORY", "value": "14336"},
        {"type": "GPU", "value": "1"},
    ]


@pytest.mark.parametrize(
    ("sizes", "gpus", "expected"),
    [
        # 16 GiB: 10% is under 2 GiB, so 2 GiB stays with the host.
        ([InstanceSize(4, 16, 1)], 1, JobResources(vcpus=3, memory_mib=14336, gpus=1)),
        # 32 GiB: 10% (3276 MiB) is kept, and the rest rounded down to 256 MiB.
        ([InstanceSize(4, 32, 1)], 1, JobResources(vcpus=3, memory_mib=29440, gpus=1)),
        # Two types: the smaller of each figure, wherever it comes from.
        ([InstanceSize(48, 192, 4), InstanceSize(96, 1152, 8)], 4, JobResources(vcpus=47, memory_mib=176896, gpus=4)),
        ([InstanceSize(8, 32, 1), InstanceSize(4, 64, 1)], 0, JobResources(vcpus=3, memory_mib=29440, gpus=0)),
        # A one-vCPU type still gets a job that asks for one vCPU (Batch rejects zero).
        ([InstanceSize(1, 4, 1)], 1, JobResources(vcpus=1, memory_mib=2048, gpus=1)),
    ],
)
def test_job_resources_leave_the_host_one_vcpu_and_its_memory(
    sizes: list[InstanceSize], gpus: int, expected: JobResources
) -> None:
    # Asking for more than the ECS agent registers leaves the job RUNNABLE for ever.
    assert job_resources(sizes, gpus=gpus) == expected


@pytest.mark.parametrize(
    ("stack", "data"),
    [("dev", "builtin:iris"), ("prod_on_aws", "s3://{bucket}/datasets/iris.csv")],
)
def test_job_command_is_the_training_contract(request: pytest.FixtureRequest, stack: str, data: str) -> None:
    # The image's ENTRYPOINT is train.py: any other argument list makes it exit 2 on every run.
    run: Recording = request.getfixturevalue(stack)
    bucket = run.outputs["bucketName"]
    assert container(run)["command"] == [
        "--data",
        data.format(bucket=bucket),
        "--model",
        "iris",
        "--output",
        f"s3://{bucket}/models",
    ]


def test_job_environment_is_the_region_and_the_image_it_runs(dev: Recording, prod_on_aws: Recording) -> None:
    # MLOPS_TRAINING_IMAGE is what metadata.json records: the digest the job really ran.
    for run in (dev, prod_on_aws):
        assert container(run)["environment"] == [
            {"name": "AWS_DEFAULT_REGION", "value": "us-east-1"},
            {"name": "MLOPS_TRAINING_IMAGE", "value": run.outputs["imageRefs"]["train"]},
        ]
    assert container(dev)["environment"][1]["value"] == container(dev)["image"]


def test_job_log_configuration_is_exact(dev: Recording, prod_on_aws: Recording) -> None:
    # A wrong group or region: the agent cannot create the stream and the job fails to start.
    for run, group in ((dev, "/aws/batch/mlops-dev-train"), (prod_on_aws, "/aws/batch/mlops-prod-train")):
        assert container(run)["logConfiguration"] == {
            "logDriver": "awslogs",
            "options": {"awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "iris"},
        }


def test_job_root_filesystem_is_read_only(dev: Recording) -> None:
    # A writable root lets a compromised dependency change the code the next step runs.
    assert container(dev)["readonlyRootFilesystem"] is True


def test_job_is_not_privileged(dev: Recording) -> None:
    # A privileged container owns the host, its instance role and every other job on it.
    assert container(dev)["privileged"] is False


def test_job_runs_as_the_images_non_root_user(dev: Recording) -> None:
    assert container(dev)["user"] == "10001"


def test_job_runs_an_init_process_and_a_hardened_tmp(dev: Recording) -> None:
    # Without init, SIGTERM at the timeout never reaches python; without noexec, /tmp runs code.
    assert container(dev)["linuxParameters"] == {
        "initProcessEnabled": True,
        "tmpfs": [{"containerPath": "/tmp", "size": 256, "mountOptions": ["rw", "nosuid", "nodev", "noexec"]}],
    }


def test_job_container_sets_nothing_else(dev: Recording) -> None:
    # An added key (a host volume, ulimits, a second env var) is a change a reviewer should see here.
    assert set(container(dev)) == {
        "image", "command", "jobRoleArn", "resourceRequirements", "environment", "logConfiguration",
        "readonlyRootFilesystem", "privileged", "user", "linuxParameters",
    }


@pytest.mark.parametrize(("stack", "name"), [("dev", "/aws/batch/mlops-dev-train"), ("prod_on_aws", "/aws/batch/mlops-prod-train")])
def test_log_group_name_is_unique_per_stack(request: pytest.FixtureRequest, stack: str, name: str) -> None:
    assert request.getfixturevalue(stack).one(LOG_GROUP).inputs["name"] == name


# --- the job role --------------------------------------------------------------------------


def test_job_runs_as_the_job_role(dev: Recording) -> None:
    assert container(dev)["jobRoleArn"] == dev.named("training-iris-job-role").state["arn"]


def test_job_role_is_assumed_only_by_ecs_tasks(dev: Recording) -> None:
    trust = json.loads(dev.named("training-iris-job-role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]


def test_job_role_writes_only_its_models_prefix(dev: Recording) -> None:
    write = statements(dev, "training-iris-job-access")["WriteModels"]
    assert write["Action"] == "s3:PutObject"
    assert write["Resource"] == f"{dev.outputs['bucketArn']}/models/iris/*"


def test_job_role_reads_only_the_data_object(prod_on_aws: Recording) -> None:
    read = statements(prod_on_aws, "training-iris-job-access")["ReadData"]
    assert read["Resource"] == [f"{prod_on_aws.outputs['bucketArn']}/datasets/iris.csv"]
    assert set(as_list(read["Action"])) == {"s3:GetObject", "s3:GetObjectVersion"}


def test_builtin_data_needs_no_read(dev: Recording) -> None:
    assert "ReadData" not in statements(dev, "training-iris-job-access")


def test_data_elsewhere_is_granted_that_object_only(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:projects": {"iris": {"train": {"data": "s3://other-bucket/train/data.csv"}}}})
    assert statements(run, "training-iris-job-access")["ReadData"]["Resource"] == ["arn:aws:s3:::other-bucket/train/data.csv"]


def test_job_role_lists_only_its_prefixes(prod_on_aws: Recording) -> None:
    listing = statements(prod_on_aws, "training-iris-job-access")["ListOwnPrefixes"]
    assert listing["Resource"] == prod_on_aws.outputs["bucketArn"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["models/iris/*", "datasets/iris.csv"]}}


def test_job_role_uses_only_the_bucket_key_through_s3(dev: Recording) -> None:
    kms = statements(dev, "training-iris-job-access")["UseBucketKeyThroughS3"]
    assert kms["Resource"] == dev.get("aws:kms/key:Key", "data-key").state["arn"]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


def test_job_role_has_no_unscoped_permission(dev: Recording) -> None:
    resources = [r for s in statements(dev, "training-iris-job-access").values() for r in as_list(s["Resource"])]
    assert all(r != "*" and not r.endswith(":::*") for r in resources)
    assert all("*" not in a for s in statements(dev, "training-iris-job-access").values() for a in as_list(s["Action"]))
