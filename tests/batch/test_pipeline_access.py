"""What Airflow's identity may do with Batch (components/batch/pipeline_access.py), as Airflow's
identity is granted it beside the pipeline's own (components/pipeline/access.py): submit and follow
the stack's jobs, register reproduce revisions, pass exactly the job roles to Batch, and check the
training images."""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline.engine import ACCOUNT_ID, Recording, run_program, stack_config_with
from tests.batch.recorded import JOB_DEFINITION, JOB_QUEUE
from tests.iam_policy import evaluate
from tests.test_permissions_boundary import BOUNDARY, _key_tags, inline_allows

REGION = f"us-east-1:{ACCOUNT_ID}"
DEFINITIONS = f"arn:aws:batch:{REGION}:job-definition"


PIPELINE_OWN = {
    "ListPipelinePrefixes", "TaskLogs", "ReadModels", "PromoteModels", "ReadData", "UseBucketKeyThroughS3",
    "PublishToTopic", "UseTopicKeyThroughSns",
}
"""The pipeline's own statements (tests/pipeline/test_airflow_identity.py checks them)."""


def granted(run: Recording) -> dict[str, dict[str, Any]]:
    """The statements the training backend adds to Airflow's identity."""
    # A user's policy on a kubeconfig cluster (dev), a role's on GKE: one of that name either way.
    policy = json.loads(run.named("airflow-identity-policy").inputs["policy"])
    return {s["Sid"]: s for s in policy["Statement"] if s["Sid"] not in PIPELINE_OWN}


@pytest.fixture(scope="module")
def two() -> Recording:
    """dev with digits training beside iris."""
    return run_program("dev", stack_config_with("dev", {"mlops:projects": {"digits": {"train": {"source": "images/train", "data": "builtin:digits"}}}}))


def test_airflow_gets_exactly_these_statements(dev: Recording) -> None:
    assert list(granted(dev)) == [
        "SubmitTraining", "FollowTraining", "StopTraining", "RegisterReproduceRevisions", "PassTheJobRoles", "CheckReproducedImages",
    ]


def test_airflow_submits_only_to_the_queue_each_projects_definition_and_its_reproduce_family(two: Recording) -> None:
    submit = granted(two)["SubmitTraining"]
    families = [f"{DEFINITIONS}/mlops-dev-{p}-train{suffix}" for suffix in ("", "-reproduce") for p in ("digits", "iris")]
    assert submit["Action"] == "batch:SubmitJob"
    assert sorted(submit["Resource"]) == sorted([two.one(JOB_QUEUE).state["arn"], *families, *(f"{f}:*" for f in families)])


def test_airflow_registers_revisions_of_the_reproduce_families_only(two: Recording) -> None:
    register = granted(two)["RegisterReproduceRevisions"]
    reproduce = [f"{DEFINITIONS}/mlops-dev-{p}-train-reproduce" for p in ("digits", "iris")]
    assert (register["Action"], sorted(register["Resource"])) == (
        ["batch:RegisterJobDefinition", "batch:TagResource"], sorted([*reproduce, *(f"{r}:*" for r in reproduce)]))


def test_airflow_passes_exactly_the_job_roles_and_only_to_batch(two: Recording) -> None:
    passing = granted(two)["PassTheJobRoles"]
    roles = sorted(two.named(f"training-{p}-job-role").state["arn"] for p in ("digits", "iris"))
    assert (passing["Action"], sorted(passing["Resource"]), passing["Condition"]) == (
        "iam:PassRole", roles, {"StringEquals": {"iam:PassedToService": ["batch.amazonaws.com", "ecs-tasks.amazonaws.com"]}})


def test_the_roles_passed_are_the_ones_the_job_definitions_run_as(dev: Recording) -> None:
    job_role = json.loads(dev.one(JOB_DEFINITION).inputs["containerProperties"])["jobRoleArn"]
    assert granted(dev)["PassTheJobRoles"]["Resource"] == [job_role]


def test_airflow_follows_and_stops_jobs_of_this_account_and_region(dev: Recording) -> None:
    statements = granted(dev)
    assert {k: (statements[k]["Action"], statements[k]["Resource"]) for k in ("FollowTraining", "StopTraining")} == {
        # DescribeJobs and DescribeJobDefinitions take no resource.
        "FollowTraining": (["batch:DescribeJobs", "batch:DescribeJobDefinitions"], "*"),
        "StopTraining": ("batch:TerminateJob", f"arn:aws:batch:{REGION}:job/*"),
    }


def test_airflow_may_look_up_images_in_the_training_repository_only(dev: Recording) -> None:
    # A reproduce run whose image has expired (registry.keepImages) is refused before it is submitted.
    check = granted(dev)["CheckReproducedImages"]
    assert (check["Action"], check["Resource"]) == ("ecr:DescribeImages", f"arn:aws:ecr:{REGION}:repository/mlops-dev/train")


@pytest.mark.parametrize("stack", ["dev", "two"])
def test_every_grant_airflow_gets_is_within_the_workload_boundary(request: pytest.FixtureRequest, stack: str) -> None:
    run: Recording = request.getfixturevalue(stack)
    grants = [g for g in inline_allows(run) if g[0] == "airflow-identity-policy"]
    assert grants != []
    # With the tags IAM sees on a KMS key (the pipeline's own statements use the bucket's and the topic's keys).
    assert [g for g in grants if evaluate(BOUNDARY, g[1], g[2], {**g[3], **_key_tags(run, g[2])}) != "allow"] == []


def test_the_boundary_keeps_the_new_grants_to_the_project(dev: Recording) -> None:
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/training-iris-job-role"
    assert evaluate(BOUNDARY, "iam:PassRole", role, {"iam:PassedToService": "lambda.amazonaws.com"}) == "implicit-deny"
    assert evaluate(BOUNDARY, "iam:PassRole", f"arn:aws:iam::{ACCOUNT_ID}:role/admin", {"iam:PassedToService": "batch.amazonaws.com"}) == (
        "implicit-deny")
    assert evaluate(BOUNDARY, "batch:RegisterJobDefinition", f"{DEFINITIONS}/someone-else") == "implicit-deny"
    assert evaluate(BOUNDARY, "batch:TagResource", f"{DEFINITIONS}/someone-else") == "implicit-deny"
    assert evaluate(BOUNDARY, "ecr:DescribeImages", f"arn:aws:ecr:{REGION}:repository/someone-else") == "implicit-deny"


def test_the_cluster_backend_asks_for_no_aws_grant(prod: Recording) -> None:
    assert granted(prod) == {}
