"""offline/cost_by_project.py: each project's share of the idle cost (its nodes, its own resources), its
training run, and the shared rest, grouped by label, tag and job definition name."""

from __future__ import annotations

from typing import Any

import pytest

from offline.cost_by_project import by_project, project_of
from offline.engine import Recording
from offline.stack_cost import stack_cost
from tests.registrations import reg
from tests.support import IRIS_ALERTS, RunWith

IRIS_ALERT_POLICIES = {f"monitoring-iris-{alert}": 1.5 for alert in IRIS_ALERTS}

SMALL: dict[str, Any] = {
    "train": {"source": "images/train", "data": "builtin:digits", "gpus": 0, "timeoutMinutes": 120},
    "serve": {"minReplicas": 2, "maxReplicas": 4, "cpu": "250m", "memory": "256Mi"},
}
"""A small second project: quarter-core pods, CPU training."""


def test_prod_splits_its_idle_cost_into_iris_and_the_shared_rest(prod: Recording) -> None:
    cost = stack_cost("prod", prod.resources)
    (iris,) = cost.projects
    assert iris.project == "iris" and iris.nodes is not None
    assert (iris.nodes.count, iris.nodes.machine, round(iris.nodes.monthly, 2)) == (2, "e2-standard-2", 109.87)
    assert [(r.name, r.monthly) for r in iris.resources if r.monthly] == [
        *IRIS_ALERT_POLICIES.items(), ("serving-iris-service", 18.25)
    ]
    assert iris.idle_monthly == 140.12
    assert cost.shared == [("gke-nat", 3.65), ("gke", 73.0), ("notifications-key", 1.0), ("data-backup-key", 1.0), ("data-key", 1.0)]
    assert cost.shared_monthly == 79.65 == round(sum(usd for _, usd in cost.shared), 2)
    # Airflow's always-on pods hold a CPU node of their own, and its database is Cloud SQL (tests/test_cost_pipeline.py).
    assert cost.pipeline is not None and cost.pipeline.idle_monthly == 105.95
    assert round(iris.idle_monthly + cost.pipeline.idle_monthly + cost.shared_monthly, 2) == cost.idle_monthly == 325.72


def test_prod_keeps_its_idle_total_and_each_part(prod: Recording) -> None:
    billed = {r.name: r.monthly for r in stack_cost("prod", prod.resources).resources if r.monthly}
    assert billed == {
        "gke-nat": 6.72, "gke": 73.0, "gke-cpu": 161.74, "airflow-database-instance": 51.01, "serving-iris-service": 18.25, "notifications-key": 1.0, "data-backup-key": 1.0, "data-key": 1.0,
        **IRIS_ALERT_POLICIES,
    }


@pytest.mark.parametrize(("stack", "idle"), [("dev", 0.0), ("dev_scheduled", 0.1)])
def test_a_dev_project_bills_at_most_its_alarm_while_idle_and_its_run_is_priced_on_batch(
    request: pytest.FixtureRequest, stack: str, idle: float
) -> None:
    cost = stack_cost("dev", request.getfixturevalue(stack).resources)
    (iris,) = cost.projects
    # Nothing, or without Airflow its schedule's dead-letter alarm ($0.10); the shared part is the three keys.
    assert (iris.idle_monthly, iris.nodes, cost.shared_monthly) == (idle, None, 3.0)
    (run,) = iris.training
    assert (run.resource, run.instance_type, run.hourly, run.upper_hours) == ("training-ce", "g4dn.xlarge", 0.1841, 3.0)


def test_a_project_is_found_by_label_tag_and_job_definition_name(dev_scheduled: Recording) -> None:
    (iris,) = by_project("dev", [r for r in dev_scheduled.resources if r.custom]).values()
    # The schedule has no tags: its name is the job definition's. The IAM policies and access key are free.
    assert sorted(r.name for r in iris) == [
        "monitoring-iris-rules", "monitoring-iris-scrape",
        "serving-iris-deployment", "serving-iris-hpa", "serving-iris-identity-credentials", "serving-iris-identity-user",
        "serving-iris-ingress",
        "serving-iris-sa", "serving-iris-service", "training-iris-failed", "training-iris-job", "training-iris-job-role",
        "training-iris-schedule", "training-iris-schedule-dlq", "training-iris-schedule-dlq-alarm",
    ]


def test_two_projects_hold_the_whole_cpu_pool_and_each_its_own_load_balancer(run_with: RunWith) -> None:
    cost = stack_cost("prod", run_with("prod", **{"mlops:projects": {"digits": SMALL}}).resources)
    digits, iris = cost.projects
    assert digits.nodes is not None and iris.nodes is not None
    # Six 250m pods fit an e2-standard-2 (1530m free): digits' two replicas hold one node, iris' two cores two,
    # and Airflow's always-on pods (1350m) one.
    assert (digits.nodes.count, iris.nodes.count) == (1, 2)
    assert [r.monthly for r in cost.resources if r.name == "gke-cpu"] == [215.66]  # 4 nodes: exactly theirs and Airflow's
    assert cost.pipeline is not None
    assert (digits.idle_monthly, iris.idle_monthly, cost.pipeline.idle_monthly, cost.shared_monthly, cost.idle_monthly) == (
        85.19, 140.12, 105.95, 79.65, 410.91)


def test_each_project_prices_a_run_up_to_its_own_deadline(run_with: RunWith) -> None:
    cost = stack_cost("dev", run_with("dev", **{"mlops:projects": {"digits": SMALL}}).resources)
    runs = {p.project: [(r.resource, r.upper_hours, round(r.upper or 0, 4)) for r in p.training] for p in cost.projects}
    assert runs == {"digits": [("training-ce", 6.0, 1.1046)], "iris": [("training-ce", 3.0, 0.5523)]}


def test_a_cluster_project_without_gpus_is_not_priced_on_the_gpu_pool(run_with: RunWith) -> None:
    cost = stack_cost("prod", run_with("prod", **{"mlops:projects": {"digits": SMALL}}).resources)
    assert {p.project: [r.resource for r in p.training] for p in cost.projects} == {"digits": [], "iris": ["gke-gpu"]}


# --- on hand-made resources ---------------------------------------------------

@pytest.mark.parametrize(
    ("resource", "project"),
    [
        (reg("kubernetes:apps/v1:Deployment", metadata={"labels": {"mlops/project": "a"}}), "a"),
        (reg("aws:iam/role:Role", tags={"ml-project": "b", "project": "mlops"}), "b"),
        (reg("gcp:serviceaccount/account:Account", labels={"ml-project": "c"}), "c"),
        (reg("gcp:monitoring/alertPolicy:AlertPolicy", userLabels={"ml-project": "e"}), "e"),
        (reg("aws:scheduler/schedule:Schedule", name="mlops-s-d-train"), "d"),
        (reg("aws:scheduler/schedule:Schedule", name="mlops-s-other"), None),
        (reg("aws:iam/role:Role", tags={"project": "mlops"}), None),
        (reg("kubernetes:core/v1:Namespace", metadata={"labels": {"app.kubernetes.io/part-of": "mlops"}}), None),
    ],
)
def test_the_project_of_a_resource(resource: Any, project: str | None) -> None:
    assert project_of(resource, {"mlops-s-d-train": "d"}) == project
