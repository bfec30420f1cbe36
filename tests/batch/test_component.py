"""The Batch training component (components/batch/component.py): what it owns, its provider, its outputs."""

from __future__ import annotations

import shlex
from typing import Any

import pulumi
import pytest

from offline import engine
from offline.engine import Recording, Registration, run_program, stack_config
from tests.batch.recorded import (
    COMPONENT,
    COMPUTE_ENVIRONMENT,
    JOB_DEFINITION,
    JOB_QUEUE,
    LAUNCH_TEMPLATE,
    LOG_GROUP,
    SCHEDULE,
    compute_resources,
)
from tests.support import CPU_TRAINING, RunWith


@pytest.mark.parametrize(("stack", "scheduled"), [("dev", set()), ("dev_scheduled", {SCHEDULE})])
def test_training_component_owns_its_resources(request: pytest.FixtureRequest, stack: str, scheduled: set[str]) -> None:
    run: Recording = request.getfixturevalue(stack)
    children = {r.type for r in run.children_of(run.one(COMPONENT))}
    assert {COMPUTE_ENVIRONMENT, JOB_QUEUE, JOB_DEFINITION, LAUNCH_TEMPLATE, LOG_GROUP, *scheduled} <= children


def test_every_training_resource_uses_the_explicit_provider(dev: Recording) -> None:
    component = dev.one(COMPONENT)
    network = dev.one("mlops:network:TrainingNetwork")
    in_region = dev.get("pulumi:providers:aws", "aws")
    resources = [r for r in dev.children_of(component) + dev.children_of(network) if r.custom]
    assert resources
    assert all(r.provider.startswith(f"{in_region.urn}::") for r in resources)


def ancestors(run: Recording, resource: Registration) -> list[str]:
    by_urn = {r.urn: r for r in run.resources}
    chain = []
    while resource.parent in by_urn:
        resource = by_urn[resource.parent]
        chain.append(resource.urn)
    return chain


@pytest.mark.parametrize("stack", ["dev", "prod_on_aws"])
def test_every_training_resource_is_inside_the_component(request: pytest.FixtureRequest, stack: str) -> None:
    # One outside it has no parent to inherit the in-region provider from: it goes to the
    # default provider (no default tags), and `pulumi destroy` of the component leaves it.
    run: Recording = request.getfixturevalue(stack)
    component = run.one(COMPONENT).urn
    training = [r for r in run.resources if r.name.startswith("training-")]
    assert len(training) > 20
    assert [r.name for r in training if component not in ancestors(run, r)] == []


@pytest.fixture(scope="module")
def lookups() -> list[tuple[str, str]]:
    """(function, provider) of every AWS lookup the dev program makes."""
    seen: list[tuple[str, str]] = []
    answer = engine.RecordingMocks.call

    def call(self: engine.RecordingMocks, args: pulumi.runtime.MockCallArgs) -> Any:
        seen.append((args.token, args.provider))
        return answer(self, args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine.RecordingMocks, "call", call)
        run_program("dev", stack_config("dev"))
    return seen


def test_every_aws_lookup_goes_through_the_in_region_provider(dev: Recording, lookups: list[tuple[str, str]]) -> None:
    # A lookup without it asks the default provider: another region's zones or partition the
    # day a caller gives the component a provider of its own.
    provider = dev.get("pulumi:providers:aws", "aws")
    assert {token for token, _ in lookups} >= {
        "aws:index/getRegion:getRegion",
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:index/getPartition:getPartition",
        "aws:index/getAvailabilityZones:getAvailabilityZones",
    }
    assert [token for token, used in lookups if not used.startswith(f"{provider.urn}::")] == []


@pytest.mark.parametrize("stack", ["dev", "prod_on_aws"])
def test_no_instance_runs_between_jobs(request: pytest.FixtureRequest, stack: str) -> None:
    run: Recording = request.getfixturevalue(stack)
    assert run.of_type("aws:ec2/instance:Instance") == []
    assert compute_resources(run)["minVcpus"] == 0


def test_compute_none_creates_no_batch_or_vpc(run_with: RunWith) -> None:
    run = run_with("dev", **CPU_TRAINING)
    assert run.of_type(COMPUTE_ENVIRONMENT) == []
    assert run.of_type("aws:ec2/vpc:Vpc") == []
    assert "jobQueue" not in run.outputs
    assert "aws batch" not in run.outputs["projects"]["iris"]["trainNowCommand"], "training runs on the cluster instead"


@pytest.mark.parametrize(
    "role", ["training-instance-role", "training-iris-job-role", "training-schedule-role"]
)
def test_batch_roles_live_under_the_project_path(dev_scheduled: Recording, role: str) -> None:
    # The deployer policy may create roles under /mlops/ only: another path fails the `up`.
    assert dev_scheduled.named(role).inputs["path"] == "/mlops/"


@pytest.mark.parametrize(("stack", "prefix"), [("dev", "mlops-dev"), ("prod_on_aws", "mlops-prod")])
def test_queue_and_job_definition_names_are_unique_per_stack(request: pytest.FixtureRequest, stack: str, prefix: str) -> None:
    # The queue is the stack's; the job definition is the project's, within the stack.
    run: Recording = request.getfixturevalue(stack)
    names = (run.one(JOB_QUEUE).inputs["name"], run.one(JOB_DEFINITION).inputs["name"])
    assert names == (f"{prefix}-train", f"{prefix}-iris-train")


def test_queue_and_job_definition_are_exported(dev: Recording) -> None:
    assert dev.outputs["jobQueue"] == dev.one(JOB_QUEUE).inputs["name"] == "mlops-dev-train"
    assert dev.outputs["projects"]["iris"]["jobDefinition"] == dev.one(JOB_DEFINITION).inputs["name"] == "mlops-dev-iris-train"


def test_train_now_command_submits_to_the_queue(dev_scheduled: Recording) -> None:
    # Without Airflow (with it, trainNowCommand starts the project's DAG: tests/pipeline/test_airflow_outputs.py).
    dev = dev_scheduled
    command = shlex.split(dev.outputs["projects"]["iris"]["trainNowCommand"])
    assert command[:3] == ["aws", "batch", "submit-job"]
    assert command[command.index("--region") + 1] == "us-east-1"
    assert command[command.index("--job-queue") + 1] == dev.outputs["jobQueue"]
    assert command[command.index("--job-definition") + 1] == dev.outputs["projects"]["iris"]["jobDefinition"]
    assert command[command.index("--query") + 1] == "jobId", "prints the id the next commands use"


def test_describe_command_reads_the_submitted_job(dev: Recording) -> None:
    command = shlex.split(dev.outputs["describeJobCommand"])
    assert command[:3] == ["aws", "batch", "describe-jobs"]
    assert command[command.index("--jobs") + 1] == "$JOB_ID"


def test_logs_command_follows_the_jobs_log_stream(dev: Recording) -> None:
    command = shlex.split(dev.outputs["logsCommand"])
    assert command[:4] == ["aws", "logs", "tail", dev.outputs["trainingLogGroup"]]
    assert "--follow" in command
    assert "container.logStreamName" in command[command.index("--log-stream-names") + 1]


def test_train_now_command_is_exact(dev_scheduled: Recording) -> None:
    # The README's quick start pipes this into JOB_ID: another --query or --output breaks it.
    assert dev_scheduled.outputs["projects"]["iris"]["trainNowCommand"] == (
        "aws batch submit-job --region us-east-1 --job-queue mlops-dev-train --job-definition mlops-dev-iris-train"
        " --job-name mlops-dev-iris-train-manual --query jobId --output text"
    )


def test_describe_command_is_exact(dev: Recording) -> None:
    assert dev.outputs["describeJobCommand"] == (
        'aws batch describe-jobs --region us-east-1 --jobs "$JOB_ID"'
        " --query 'jobs[0].{status:status,reason:statusReason,attempts:length(attempts),"
        "exitCode:container.exitCode,logStream:container.logStreamName}'"
    )


def test_logs_command_is_exact(dev: Recording) -> None:
    assert dev.outputs["logsCommand"] == (
        "aws logs tail /aws/batch/mlops-dev-train --region us-east-1 --follow --log-stream-names"
        ' "$(aws batch describe-jobs --region us-east-1 --jobs "$JOB_ID"'
        " --query 'jobs[0].container.logStreamName' --output text)\""
    )


def test_with_airflow_the_component_records_when_each_projects_runs_start(dev: Recording, dev_scheduled: Recording) -> None:
    # No schedule here, so `make cost` reads the cron Airflow starts the runs on from the component.
    assert dev.one(COMPONENT).inputs == {"pipelineSchedules": {"iris": "0 3 * * *"}}
    assert dev_scheduled.one(COMPONENT).inputs == {}
