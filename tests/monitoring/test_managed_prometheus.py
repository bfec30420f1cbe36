"""GKE's monitoring (components/monitoring/managed_prometheus.py): each served project's PodMonitoring
and alert policies, the stack's notification channels and its Cloud Monitoring dashboard."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from components.config.monitoring import AlertThresholds
from components.monitoring.alert_rules import ServedProject, serving_rules
from offline.engine import Recording
from tests.crd_schemas import custom_resource_problems
from tests.gke.support import DEV_ON_GKE
from tests.review_support import diff_between
from tests.support import RunWith

POD_MONITORING = "kubernetes:monitoring.googleapis.com/v1:PodMonitoring"
ALERT_POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
DASHBOARD = "gcp:monitoring/dashboard:Dashboard"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PROJECT = "mlops-prod-123456"
IRIS_SERVERS = {
    "app.kubernetes.io/name": "model-server",
    "app.kubernetes.io/instance": "mlops-prod",
    "app.kubernetes.io/part-of": "mlops",
    "mlops/project": "iris",
}
PROD_IRIS = ServedProject(
    project="iris",
    namespace="mlops-prod",
    min_replicas=2,
    max_replicas=6,
    thresholds=AlertThresholds(),
    schedule="0 2 * * 1-5",
    trains_on_cluster=True,
    follows_latest=True,
)
"""iris as stacks/Pulumi.prod.yaml serves it: the rules every policy must render, unchanged."""
NOTIFIED = {
    "mlops:monitoring": {
        "notify": {"emails": ["oncall@example.com", "ml-team@example.com"], "https": ["https://chat.example.com/hooks/T0K3N"]}
    }
}
DIGITS_SERVED = {
    "mlops:projects": {"digits": {"serve": {"minReplicas": 2, "maxReplicas": 3, "modelVersion": "20260101T000000Z"}}}
}


def policies(recording: Recording) -> dict[str, dict[str, Any]]:
    return {r.name: r.inputs for r in recording.of_type(ALERT_POLICY)}


def test_prod_scrapes_iris_servers_metrics_every_30_seconds(prod: Recording) -> None:
    scrape = prod.one(POD_MONITORING)
    assert scrape.inputs == {
        "apiVersion": "monitoring.googleapis.com/v1",
        "kind": "PodMonitoring",
        "metadata": {"name": "iris-server", "namespace": "mlops-prod", "labels": IRIS_SERVERS},
        "spec": {
            "selector": {"matchLabels": IRIS_SERVERS},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
        },
    }
    assert custom_resource_problems(scrape.inputs) == []


def test_pod_monitoring_selects_exactly_the_pods_the_deployment_runs(prod: Recording) -> None:
    deployment = prod.get(DEPLOYMENT, "serving-iris-deployment")
    assert prod.one(POD_MONITORING).inputs["spec"]["selector"] == deployment.inputs["spec"]["selector"]


def test_pod_monitoring_is_created_on_the_gke_cluster(prod: Recording) -> None:
    assert "pulumi:providers:kubernetes::gke-k8s::" in prod.one(POD_MONITORING).provider


def test_each_project_is_scraped_by_its_own_pod_monitoring(run_with: RunWith) -> None:
    recording = run_with("prod", **DIGITS_SERVED)
    scrapes = {r.name: r.inputs for r in recording.of_type(POD_MONITORING)}
    assert {name: s["spec"]["selector"]["matchLabels"]["mlops/project"] for name, s in scrapes.items()} == {
        "monitoring-digits-scrape": "digits",
        "monitoring-iris-scrape": "iris",
    }
    assert [custom_resource_problems(s) for s in scrapes.values()] == [[], []]


def test_every_iris_rule_is_one_alert_policy(prod: Recording) -> None:
    assert sorted(policies(prod)) == sorted(f"monitoring-iris-{rule.alert}" for rule in serving_rules(PROD_IRIS))
    assert len(policies(prod)) == 8


@pytest.mark.parametrize("rule", serving_rules(PROD_IRIS), ids=lambda rule: rule.alert)
def test_alert_policy_renders_its_rule_unchanged(prod: Recording, rule: Any) -> None:
    policy = policies(prod)[f"monitoring-iris-{rule.alert}"]
    assert policy["conditions"] == [
        {
            "displayName": rule.alert,
            "conditionPrometheusQueryLanguage": {
                "query": rule.expr,
                "duration": f"{rule.for_minutes * 60}s",
                "evaluationInterval": "30s",
                "alertRule": rule.alert,
                "ruleGroup": "mlops-iris",
                "labels": {"project": "iris", "severity": rule.severity},
                "disableMetricValidation": True,
            },
        }
    ]
    assert policy["documentation"] == {
        "content": f"{rule.summary}\n\n**Runbook:** {rule.runbook}",
        "mimeType": "text/markdown",
    }
    assert (policy["displayName"], policy["combiner"], policy["project"]) == (
        f"mlops-prod iris: {rule.alert}",
        "OR",
        PROJECT,
    )
    assert policy["severity"] == {"critical": "CRITICAL", "warning": "WARNING"}[rule.severity]
    assert policy["userLabels"] == {"ml-project": "iris"}


def test_no_ready_replica_is_a_critical_policy_after_five_minutes(prod: Recording) -> None:
    # One rule spelled out, so that a change to the rules' rendering cannot hide behind serving_rules().
    condition = policies(prod)["monitoring-iris-ModelServerDown"]["conditions"][0]["conditionPrometheusQueryLanguage"]
    assert (condition["query"], condition["duration"]) == (
        'max by (namespace, deployment) (kube_deployment_status_replicas_available{namespace="mlops-prod", '
        'deployment="iris-server"}) < 1',
        "300s",
    )
    assert policies(prod)["monitoring-iris-ModelServerDown"]["severity"] == "CRITICAL"


def test_a_training_failure_alerts_at_once(prod: Recording) -> None:
    condition = policies(prod)["monitoring-iris-TrainingFailed"]["conditions"][0]["conditionPrometheusQueryLanguage"]
    assert condition["duration"] == "0s"


def test_a_threshold_from_config_sets_the_policy_duration(run_with: RunWith) -> None:
    recording = run_with("prod", **{"mlops:projects": {"iris": {"serve": {"alerts": {"errorMinutes": 15}}}}})
    condition = policies(recording)["monitoring-iris-ModelServerErrors"]["conditions"][0]["conditionPrometheusQueryLanguage"]
    assert condition["duration"] == "900s"


def test_prod_notifies_its_on_call_address_and_nobody_once_notify_is_empty(prod: Recording, run_with: RunWith) -> None:
    (channel,) = prod.of_type(CHANNEL)
    assert (channel.name, channel.inputs["labels"]) == (
        "monitoring-notify-ml-oncall@example.com", {"email_address": "ml-oncall@example.com"}
    )
    assert {name: policy["notificationChannels"] for name, policy in policies(prod).items()} == {
        name: [channel.state["name"]] for name in policies(prod)
    }
    silent = run_with("prod", **{"mlops:monitoring": {"notify": {"emails": []}}})
    assert silent.of_type(CHANNEL) == []
    assert {policy["notificationChannels"] == [] for policy in policies(silent).values()} == {True}


def test_each_email_and_https_url_is_a_notification_channel(run_with: RunWith) -> None:
    recording = run_with("prod", **NOTIFIED)
    webhook = f"monitoring-notify-webhook-{hashlib.sha256(b'https://chat.example.com/hooks/T0K3N').hexdigest()[:12]}"
    assert {r.name: r.inputs for r in recording.of_type(CHANNEL)} == {
        "monitoring-notify-oncall@example.com": {
            "project": PROJECT,
            "type": "email",
            "displayName": "mlops-prod alerts: oncall@example.com",
            "labels": {"email_address": "oncall@example.com"},
        },
        "monitoring-notify-ml-team@example.com": {
            "project": PROJECT,
            "type": "email",
            "displayName": "mlops-prod alerts: ml-team@example.com",
            "labels": {"email_address": "ml-team@example.com"},
        },
        webhook: {
            "project": PROJECT,
            "type": "webhook_tokenauth",
            "displayName": "mlops-prod alerts: webhook chat.example.com",
            "labels": {"url": "https://chat.example.com/hooks/T0K3N"},
        },
    }


def test_every_policy_notifies_every_channel(run_with: RunWith) -> None:
    recording = run_with("prod", **NOTIFIED)
    channels = sorted(r.state["name"] for r in recording.of_type(CHANNEL))
    assert len(channels) == 3
    assert {name: sorted(policy["notificationChannels"]) for name, policy in policies(recording).items()} == {
        name: channels for name in policies(recording)
    }


def test_monitoring_lives_in_the_clusters_project_on_the_stacks_google_provider(prod: Recording) -> None:
    gcp_monitoring = [*prod.of_type(ALERT_POLICY), prod.one(DASHBOARD)]
    assert {(r.inputs["project"], r.provider.split("::")[-2]) for r in gcp_monitoring} == {(PROJECT, "gcp")}


def test_prod_dashboard_has_one_group_for_iris(prod: Recording) -> None:
    dashboard = json.loads(prod.one(DASHBOARD).inputs["dashboardJson"])
    assert dashboard["displayName"] == "mlops-prod: serving and training"
    groups = [tile["widget"]["title"] for tile in dashboard["mosaicLayout"]["tiles"] if "collapsibleGroup" in tile["widget"]]
    assert groups == ["iris"]


def test_two_served_projects_share_one_dashboard_with_a_group_each(run_with: RunWith) -> None:
    recording = run_with("prod", **DIGITS_SERVED)
    tiles = json.loads(recording.one(DASHBOARD).inputs["dashboardJson"])["mosaicLayout"]["tiles"]
    groups = [tile["widget"]["title"] for tile in tiles if "collapsibleGroup" in tile["widget"]]
    assert groups == ["iris", "digits"]
    queries = [
        data["timeSeriesQuery"]["prometheusQuery"]
        for tile in tiles
        if "xyChart" in tile["widget"]
        for data in tile["widget"]["xyChart"]["dataSets"]
    ]
    # Each group's 11 queries name its own project (model=, its server, its training pods), none the other's.
    assert (sum("iris" in q for q in queries), sum("digits" in q for q in queries), len(queries)) == (11, 11, 22)


def test_scraping_none_leaves_the_project_unwatched(run_with: RunWith) -> None:
    recording = run_with("prod", **{"mlops:monitoring": {"scraping": "none"}})
    watched = [r.type for r in recording.resources if r.type in (POD_MONITORING, ALERT_POLICY, CHANNEL, DASHBOARD)]
    assert watched == []


def test_dev_on_kubeconfig_has_no_google_cloud_monitoring(dev: Recording) -> None:
    assert [r.type for r in dev.resources if r.type.startswith("gcp:monitoring")] == []


def test_dev_on_gke_is_watched_the_same_way_in_its_own_namespace_and_project(run_with: RunWith) -> None:
    # auto is managed-prometheus on any GKE stack; dev's single replica has no "fewer than minReplicas" rule.
    recording = run_with("dev", **DEV_ON_GKE)
    scrape = recording.one(POD_MONITORING).inputs
    assert (scrape["metadata"]["namespace"], scrape["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"]) == (
        "mlops-dev",
        "mlops-dev",
    )
    assert sorted(policies(recording)) == [
        "monitoring-iris-ModelLoadFailing", "monitoring-iris-ModelServerDown", "monitoring-iris-ModelServerErrors", "monitoring-iris-ModelServerSaturated",
        "monitoring-iris-ModelServerSlow", "monitoring-iris-ModelStale", "monitoring-iris-TrainingFailed",
    ]
    assert {(p["project"], p["displayName"].split(" ")[0]) for p in policies(recording).values()} == {("mlops-dev-123456", "mlops-dev")}


def test_a_new_threshold_updates_its_policy_in_place(prod: Recording, run_with: RunWith) -> None:
    # Only the project replaces an alert policy (replacements.json): a reviewer sees an update, and
    # the policy keeps its incidents and snoozes.
    head = run_with("prod", **{"mlops:monitoring": {"alerts": {"errorMinutes": 15}}})
    changes = {c.name: c for c in diff_between("prod", prod, head).changes if c.type == ALERT_POLICY}
    assert {name: c.action for name, c in changes.items()} == {"monitoring-iris-ModelServerErrors": "update"}
    # The wait, and the summary that names it.
    assert [p.path for p in changes["monitoring-iris-ModelServerErrors"].properties] == [
        "conditions[0].conditionPrometheusQueryLanguage.duration", "documentation.content",
    ]
    assert [p.forces_replacement for p in changes["monitoring-iris-ModelServerErrors"].properties] == [False, False]
