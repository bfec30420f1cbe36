"""Every resource of a project names it, so cost can be split per project: each Kubernetes object
carries the `mlops/project` label, each cloud resource the `ml-project` tag
(components/project_names.py). One walk over the whole recording of a two-project stack, on
dev (AWS Batch, a kubeconfig cluster) and on prod (GKE): the resources that carry no project
are listed here, each shared by design or unable to carry a tag."""

from __future__ import annotations

import re
from typing import Any

import pulumi_aws as aws
import pytest

from components.project_names import PROJECT_LABEL, PROJECT_TAG
from offline.engine import Recording, Registration, run_program, stack_config_with
from offline.values import reveal
from tests.support import SCHEDULED

PROJECTS = ("iris", "digits")
DIGITS = {"train": {"source": "images/train", "data": "builtin:digits"}, "serve": {"cpu": "250m", "memory": "256Mi", "minReplicas": 2}}
# Every registration of a project is named after it: serving-<project>-..., training-<project>-...,
# monitoring-<project>-... (its ServiceMonitor and rules).
OWNER = re.compile(rf"^(?:serving|training|monitoring)-({'|'.join(PROJECTS)})(?:-|$)")

SCHEDULE = "aws:scheduler/schedule:Schedule"
# Types a project has that the cloud API gives no tags: an inline policy, a key, a Scheduler schedule.
UNTAGGABLE = {
    "aws:iam/rolePolicy:RolePolicy": aws.iam.RolePolicy,
    "aws:iam/userPolicy:UserPolicy": aws.iam.UserPolicy,
    "aws:iam/accessKey:AccessKey": aws.iam.AccessKey,
    SCHEDULE: aws.scheduler.Schedule,
    "aws:cloudwatch/eventTarget:EventTarget": aws.cloudwatch.EventTarget,
}
# Shared by the stack's projects, so they name none. Both stacks: the namespace and what it holds for
# everyone, and the stack's budget (over every resource the stack tags).
SHARED_NAMESPACE = {"workloads", "workloads-default-deny", "workloads-egress", "workloads-quota", "workloads-limits"}
# Both stacks: the notification topic every project's failures and the budget are told on, and the budget.
SHARED_NOTIFICATIONS = {"notifications", "notifications-key", "notifications-policy"}
# Both stacks: Airflow, which runs every project's DAG: its namespace and NetworkPolicies, its identity,
# secrets and ServiceAccount, the roll-out's Role on the serving namespace, its database's egress, the
# chart's release, and the DAG image.
SHARED_PIPELINE = {
    "airflow-namespace", "airflow-namespace-default-deny", "airflow-namespace-allow-dns-egress",
    "airflow-namespace-allow-api-egress", "airflow-namespace-allow-serving-egress", "airflow-namespace-allow-airflow-traffic",
    "airflow-identity-policy", "airflow-sa", "airflow-rollout", "airflow-database-egress", "airflow-release",
    "airflow-secrets-fernet-key", "airflow-secrets-api-secret-key", "airflow-secrets-jwt-secret", "airflow-secrets-admin-password",
    "images-pipeline",
}
SHARED_BOTH = SHARED_NAMESPACE | SHARED_NOTIFICATIONS | SHARED_PIPELINE | {"budget"}
SHARED_DEV = SHARED_BOTH | {
    # storage: one bucket, its key and its settings
    "data", "data-key", "data-key-alias", "data-ownership", "data-public-access", "data-versioning", "data-encryption",
    "data-lifecycle", "data-policy",
    # the registry and the images built into it (the built-in trainer and server)
    "registry-key", "registry-train", "registry-serve", "registry-train-lifecycle", "registry-serve-lifecycle",
    "images-train", "images-serve",
    # the namespace's pull secret and the renewer that keeps it fresh
    "workloads-pull", "pull-secret-renewer-identity-user", "pull-secret-renewer-identity-policy",
    "pull-secret-renewer-identity-key", "pull-secret-renewer-identity-credentials", "pull-secret-renewer-sa",
    "pull-secret-renewer-role", "pull-secret-renewer-binding", "pull-secret-renewer-api-egress", "pull-secret-renewer-cronjob",
    # one Batch capacity for every project's jobs, its network and logs
    "training-ce", "training-queue", "training-logs", "training-lt", "training-sg", "training-instance-role",
    "training-instance-profile", "training-instance-ecs", "training-instance-ecr", "training-net-vpc", "training-net-igw", "training-net-public-rt", "training-net-public-0",
    "training-net-public-1", "training-net-default-sg", "training-net-public-default", "training-net-public-rta-0",
    "training-net-public-rta-1", "training-net-s3",
    # Airflow on the cluster you bring: its access key, its pull secret and renewer, the bundled Postgres's
    # secrets and NetworkPolicy, and the DAG image's repository
    "airflow-identity-user", "airflow-identity-key", "airflow-identity-credentials", "airflow-namespace-pull",
    "airflow-pull-secret-renewer-identity-user", "airflow-pull-secret-renewer-identity-policy",
    "airflow-pull-secret-renewer-identity-key", "airflow-pull-secret-renewer-identity-credentials", "airflow-pull-secret-renewer-sa",
    "airflow-pull-secret-renewer-role", "airflow-pull-secret-renewer-binding", "airflow-pull-secret-renewer-api-egress",
    "airflow-pull-secret-renewer-cronjob", "airflow-database-password", "airflow-database-auth", "airflow-database-connection",
    "airflow-database-ingress", "registry-pipeline", "registry-pipeline-lifecycle",
    # the stack's alert route to its SNS topic, the key Alertmanager signs with, and the dashboard
    "monitoring-alertmanager-config", "monitoring-sns-publisher-user", "monitoring-sns-publisher-policy",
    "monitoring-sns-publisher-key", "monitoring-sns-publisher-credentials", "monitoring-dashboard",
}
SHARED_PROD = SHARED_BOTH | {
    # storage: the bucket, its access logs and its replica in the backup region
    "data", "data-key", "data-key-alias", "data-ownership", "data-public-access", "data-versioning", "data-encryption",
    "data-lifecycle", "data-policy", "data-logging", "data-access-logs", "data-access-logs-ownership",
    "data-access-logs-public-access", "data-access-logs-versioning", "data-access-logs-encryption",
    "data-access-logs-lifecycle", "data-access-logs-policy", "data-backup", "data-backup-key", "data-backup-key-alias",
    "data-backup-ownership", "data-backup-public-access", "data-backup-versioning", "data-backup-encryption",
    "data-backup-lifecycle", "data-backup-policy", "data-replication",
    # the registry (its repositories carry the stack's labels) and the built-in images
    "registry-images", "registry-cache", "registry-scanning-api", "images-train", "images-serve",
    # Airflow's role, which GKE's pods assume keylessly; its Cloud SQL database (the peering, the instance,
    # its database, user, password and Secret); the runner Role that lets it run the CronJobs' Jobs
    "airflow-identity-role", "airflow-database-peering-range", "airflow-database-peering", "airflow-database-name",
    "airflow-database-instance", "airflow-database-database", "airflow-database-user", "airflow-database-password",
    "airflow-database-secret", "training-runner-role", "training-runner-binding",
    # one cluster: its network, node pools (sized for every project), nodes' identity, and the AWS trust of its issuer
    "gke", "gke-network", "gke-subnet", "gke-router", "gke-nat", "gke-cpu", "gke-gpu", "gke-nodes",
    "gke-nodes-container-defaultNodeServiceAccount", "gke-nodes-pull-images", "gke-identity-oidc",
    # one Cloud Monitoring dashboard, a group per project, and the on-call address: its channel
    # for the alert policies and its subscription to the topic
    "monitoring-dashboard", "monitoring-notify-ml-oncall@example.com", "notifications-email-28772038",
}


# Without Airflow, the Scheduler's one role and its policy, for every project's schedule.
SHARED_SCHEDULING = {"training-schedule-role", "training-schedule-submit"}


def two_projects(stack: str, **changes: Any) -> Recording:
    return run_program(stack, stack_config_with(stack, {"mlops:projects": {"digits": DIGITS}, **changes}))


@pytest.fixture(scope="module", params=["dev", "prod"])
def walked(request: pytest.FixtureRequest) -> tuple[str, Recording]:
    return request.param, two_projects(request.param)


def marks(registration: Registration) -> list[str | None]:
    """The project each place of a resource names: a Kubernetes object's labels (and its pods' and
    jobs' templates), a cloud resource's tags (AWS) or labels (GCP)."""
    inputs: dict[str, Any] = reveal(registration.inputs)
    if not registration.type.startswith("kubernetes:"):
        # An image's `tags` are its references, a list: no cost allocation there. An alert
        # policy's own labels are `userLabels`.
        tags = inputs.get("tags") or inputs.get("labels") or inputs.get("userLabels")
        return [tags.get(PROJECT_TAG) if isinstance(tags, dict) else None]
    spec = inputs.get("spec") or {}
    templates = [spec.get("template"), spec.get("jobTemplate"), ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")]
    found = [(inputs.get("metadata") or {}).get("labels") or {}] + [(t.get("metadata") or {}).get("labels") or {} for t in templates if t]
    return [labels.get(PROJECT_LABEL) for labels in found]


def resources(run: Recording) -> list[Registration]:
    """What the stack creates: custom resources, not the providers."""
    return [r for r in run.resources if r.custom and not r.type.startswith("pulumi:providers:")]


def test_every_resource_of_a_project_names_that_project(walked: tuple[str, Recording]) -> None:
    _, run = walked
    wrong = {}
    for registration in resources(run):
        owner = OWNER.match(registration.name)
        if owner is None or registration.type in UNTAGGABLE:
            continue
        if set(marks(registration)) != {owner.group(1)}:
            wrong[registration.name] = marks(registration)
    assert wrong == {}


def test_each_project_has_its_own_named_resources_of_every_kind(walked: tuple[str, Recording]) -> None:
    # The walk above is only worth something if it met each project's objects and identities.
    stack, run = walked
    for project in PROJECTS:
        kinds = {r.type.split(":")[-1] for r in resources(run) if (m := OWNER.match(r.name)) and m.group(1) == project}
        assert {"Deployment", "Service", "HorizontalPodAutoscaler", "NetworkPolicy", "ServiceAccount"} <= kinds
        assert {"JobDefinition", "Role", "User"} <= kinds if stack == "dev" else {"CronJob", "PodDisruptionBudget", "Role"} <= kinds


def test_the_resources_that_name_no_project_are_the_shared_ones(walked: tuple[str, Recording]) -> None:
    stack, run = walked
    unowned = {r.name for r in resources(run) if OWNER.match(r.name) is None}
    assert unowned == (SHARED_DEV if stack == "dev" else SHARED_PROD)


def test_no_shared_resource_is_billed_to_one_project(walked: tuple[str, Recording]) -> None:
    # A shared bucket or cluster tagged with one project would put every project's cost on it.
    _, run = walked
    tagged = {r.name: marks(r) for r in resources(run) if OWNER.match(r.name) is None and any(marks(r))}
    assert tagged == {}


def test_a_project_resource_without_a_tag_is_of_a_type_that_takes_none(walked: tuple[str, Recording]) -> None:
    stack, run = walked
    untagged = {r.type for r in resources(run) if OWNER.match(r.name) and r.type in UNTAGGABLE}
    assert untagged == (set(UNTAGGABLE) - {SCHEDULE} if stack == "dev" else {"aws:iam/rolePolicy:RolePolicy"})
    for kind in UNTAGGABLE.values():
        assert not hasattr(kind, "tags"), f"{kind.__name__} takes tags now: tag it"


def test_without_airflow_the_schedules_are_untagged_and_their_role_shared() -> None:
    # A Scheduler schedule takes no tags (the cost split finds its project by its name instead).
    run = two_projects("dev", **SCHEDULED)
    unowned = {r.name for r in resources(run) if OWNER.match(r.name) is None}
    untagged = {r.type for r in resources(run) if OWNER.match(r.name) and r.type in UNTAGGABLE}
    assert (unowned - SHARED_DEV, untagged) == (SHARED_SCHEDULING, set(UNTAGGABLE))


def test_a_kubeconfig_clusters_access_key_secret_is_labelled_with_its_project(walked: tuple[str, Recording]) -> None:
    # The dev credential Secrets are a project's own objects: `kubectl get secret -l mlops/project=iris` must find them.
    stack, run = walked
    secrets = {r.name: marks(r) for r in resources(run) if r.name.endswith("-identity-credentials") and OWNER.match(r.name)}
    assert secrets == ({"serving-iris-identity-credentials": ["iris"], "serving-digits-identity-credentials": ["digits"]}
                       if stack == "dev" else {})
