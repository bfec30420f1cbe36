"""Several projects in one stack: each its own server, training and identity, none reaching another's
models; a new project changes nothing in the others; `iris` takes over the single-model resources."""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline.engine import Recording, Registration, run_program, stack_config_with
from tests.manifests import manifest, pod_spec
from tests.support import SCHEDULED

BUILTIN = {"source": "images/train"}
DIGITS = {"train": {**BUILTIN, "data": "builtin:digits"}, "serve": {"cpu": "250m", "memory": "256Mi"}}
WINE = {"train": {**BUILTIN, "data": "builtin:wine", "schedule": "0 4 * * *"}}


@pytest.fixture(scope="module")
def two() -> Recording:
    """dev with digits beside iris, each on its own schedule (without Airflow)."""
    return run_program("dev", stack_config_with("dev", {"mlops:projects": {"digits": DIGITS}, **SCHEDULED}))


@pytest.fixture(scope="module")
def three() -> Recording:
    """dev with digits and wine (training only) beside iris, without Airflow."""
    return run_program("dev", stack_config_with("dev", {"mlops:projects": {"digits": DIGITS, "wine": WINE}, **SCHEDULED}))


@pytest.fixture(scope="module")
def two_on_gke() -> Recording:
    return run_program("prod", stack_config_with("prod", {"mlops:projects": {"digits": {**DIGITS, "serve": {**DIGITS["serve"], "minReplicas": 2}}}}))


def names(run: Recording, type_: str, key: str = "name") -> list[str]:
    return sorted(r.inputs[key] for r in run.of_type(type_))


def policy(registration: Registration) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(registration.inputs["policy"])["Statement"]}


def test_two_projects_plan_two_sets_of_training_and_serving(two: Recording) -> None:
    assert [m["metadata"]["name"] for m in (manifest(two, "Deployment", "iris-server"), manifest(two, "Deployment", "digits-server"))] == [
        "iris-server",
        "digits-server",
    ]
    assert names(two, "aws:batch/jobDefinition:JobDefinition") == ["mlops-dev-digits-train", "mlops-dev-iris-train"]
    assert names(two, "aws:scheduler/schedule:Schedule") == ["mlops-dev-digits-train", "mlops-dev-iris-train"]
    assert names(two, "aws:iam/user:User") == [
        "mlops-dev-alertmanager-sns", "mlops-dev-digits-server", "mlops-dev-iris-server", "mlops-dev-renew-pull-secret"
    ]
    # One shared capacity: one queue, one compute environment, one log group, one Scheduler role.
    assert [len(two.of_type(t)) for t in ("aws:batch/jobQueue:JobQueue", "aws:batch/computeEnvironment:ComputeEnvironment",
                                          "aws:cloudwatch/logGroup:LogGroup")] == [1, 1, 1]
    assert sorted(two.outputs["projects"]) == ["digits", "iris"]


@pytest.mark.parametrize("project", ["iris", "digits"])
def test_each_server_reads_only_its_own_models(two: Recording, project: str) -> None:
    bucket = two.outputs["bucketArn"]
    found = policy(two.named(f"serving-{project}-identity-policy"))
    assert found["ReadModel"]["Resource"] == f"{bucket}/models/{project}/*"
    assert found["ListModelPrefix"]["Condition"] == {"StringLike": {"s3:prefix": [f"models/{project}/", f"models/{project}/*"]}}


@pytest.mark.parametrize("project", ["iris", "digits"])
def test_each_training_job_writes_only_its_own_models(two: Recording, project: str) -> None:
    bucket = two.outputs["bucketArn"]
    found = policy(two.named(f"training-{project}-job-access"))
    assert found["WriteModels"]["Resource"] == f"{bucket}/models/{project}/*"
    assert found["ListOwnPrefixes"]["Condition"] == {"StringLike": {"s3:prefix": [f"models/{project}/*"]}}


def test_the_scheduler_may_submit_exactly_the_stacks_job_definitions(two: Recording) -> None:
    resources = policy(two.named("training-schedule-submit"))["SubmitTrainingJob"]["Resource"]
    definitions = {r.name: r.state["arnPrefix"] for r in two.of_type("aws:batch/jobDefinition:JobDefinition")}
    assert resources == [
        two.one("aws:batch/jobQueue:JobQueue").state["arn"],
        definitions["training-iris-job"], f"{definitions['training-iris-job']}:*",
        definitions["training-digits-job"], f"{definitions['training-digits-job']}:*",
    ]


@pytest.mark.parametrize("project", ["iris", "digits"])
def test_each_deployment_selects_only_its_own_pods(two: Recording, project: str) -> None:
    deployment = manifest(two, "Deployment", f"{project}-server")
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector["mlops/project"] == project
    assert deployment["spec"]["template"]["metadata"]["labels"] == selector
    other = manifest(two, "Deployment", f"{'digits' if project == 'iris' else 'iris'}-server")
    assert other["spec"]["template"]["metadata"]["labels"]["mlops/project"] != project


def test_each_project_logs_to_its_own_streams(two: Recording) -> None:
    prefixes = {
        r.name: json.loads(r.inputs["containerProperties"])["logConfiguration"]["options"]["awslogs-stream-prefix"]
        for r in two.of_type("aws:batch/jobDefinition:JobDefinition")
    }
    assert prefixes == {"training-iris-job": "iris", "training-digits-job": "digits"}


def test_a_small_project_asks_for_a_quarter_core_with_one_worker(two: Recording) -> None:
    [server] = pod_spec(manifest(two, "Deployment", "digits-server"))["containers"]
    assert server["resources"]["limits"] == {"cpu": "250m", "memory": "256Mi"}
    assert {e["name"]: e.get("value") for e in server["env"]}["WEB_CONCURRENCY"] == "1"


def test_every_cloud_identity_of_a_project_carries_its_tag(two: Recording, two_on_gke: Recording) -> None:
    tagged = {r.name: r.inputs.get("tags") for r in two.of_type("aws:iam/user:User") + two.of_type("aws:iam/role:Role")}
    assert tagged["serving-digits-identity-user"] == {"ml-project": "digits"}
    assert tagged["training-digits-job-role"] == {"ml-project": "digits"}
    assert two.named("training-digits-job").inputs["tags"] == {"ml-project": "digits"}
    assert two_on_gke.named("training-digits-identity-role").inputs["tags"] == {"ml-project": "digits"}


def project_registrations(run: Recording, projects: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Everything registered for these projects, by URN: type, inputs, parent, options."""
    marks = tuple(f"-{p}" for p in projects)
    return {
        r.urn: {"inputs": r.inputs, "parent": r.parent, "aliases": r.aliases, "dependencies": r.dependencies}
        for r in run.resources
        if any(mark in r.name for mark in marks)
    }


def test_adding_a_third_project_changes_nothing_in_the_first_two(two: Recording, three: Recording) -> None:
    before = project_registrations(two, ("iris", "digits"))
    # Each project: 11 serving registrations; its job definition, role, role policy and schedule; the
    # schedule's dead-letter queue and alarm; its failure rule and the rule's target; its ServiceMonitor
    # and PrometheusRule.
    assert len(before) == 2 * (11 + 4 + 4 + 2)
    assert project_registrations(three, ("iris", "digits")) == before
    assert names(three, "aws:batch/jobDefinition:JobDefinition") == [
        "mlops-dev-digits-train", "mlops-dev-iris-train", "mlops-dev-wine-train"
    ]
    assert sorted(three.outputs["projects"]["wine"]) == ["jobDefinition", "trainNowCommand"], "training only: no server"


def test_the_gke_cpu_pool_holds_every_served_project(prod: Recording, two_on_gke: Recording) -> None:
    def bounds(run: Recording) -> tuple[int, int]:
        pool = run.get("gcp:container/nodePool:NodePool", "gke-cpu").inputs["autoscaling"]
        return pool["totalMinNodeCount"], pool["totalMaxNodeCount"]

    # iris: 2..6 one-core pods, one per e2-standard-2 (7 with the surge pod); digits: 2..3 quarter-core pods, six a node;
    # Airflow's always-on pods one node, two for their rollout and task pods.
    assert bounds(prod) == (2 + 1, 7 + 2)
    assert bounds(two_on_gke) == (2 + 1 + 1, 7 + 1 + 2)


def test_each_project_on_gke_has_its_own_cronjob_and_role(two_on_gke: Recording) -> None:
    assert [c["metadata"]["name"] for c in (manifest(two_on_gke, "CronJob", "iris-train"), manifest(two_on_gke, "CronJob", "digits-train"))] == [
        "iris-train", "digits-train"
    ]
    roles = {p: two_on_gke.outputs["projects"][p]["trainingRoleArn"] for p in ("iris", "digits")}
    assert roles == {
        "iris": "arn:aws:iam::123456789012:role/mlops/mlops-prod-iris-train",
        "digits": "arn:aws:iam::123456789012:role/mlops/mlops-prod-digits-train",
    }
