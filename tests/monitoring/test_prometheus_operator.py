"""The prometheus-operator monitor (components/monitoring/prometheus_operator.py), as the dev stack
(`serving.cluster: kubeconfig`, scraping auto -> prometheus-operator) records it: what scrapes each
project, which rules it gets, how an alert reaches the SNS topic, and the dashboard."""

from __future__ import annotations

import json
import re
import pytest

from components.config.monitoring import AlertThresholds
from components.monitoring.alert_rules import AlertRule, ServedProject, rule_group, serving_rules, training_failed
from components.monitoring.prometheus_operator import DASHBOARD, MESSAGE, SUBJECT
from offline.engine import MOCK_SECRET_ACCESS_KEY, Recording, run_program, stack_config_with
from offline.values import is_secret
from tests.crd_schemas import custom_resource_problems, known_kinds
from tests.manifests import manifest, manifests, of_kind
from tests.support import RunWith


def topic_arn(recording: Recording) -> str:
    """The stack's notification topic, as the mock engine records it."""
    return recording.get("aws:sns/topic:Topic", "notifications").state["arn"]


CUSTOM_KINDS = ("ServiceMonitor", "PrometheusRule", "AlertmanagerConfig")
STACK_LABELS = {"app.kubernetes.io/name": "monitoring", "app.kubernetes.io/instance": "mlops-dev", "app.kubernetes.io/part-of": "mlops"}
PUBLISHER_SECRET = "monitoring-sns-publisher-aws"
DIGITS = {
    "train": {"source": "images/train", "data": "builtin:digits"},
    "serve": {"cpu": "250m", "memory": "256Mi", "minReplicas": 1, "maxReplicas": 5},
}


def server_labels(project: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "model-server",
        "app.kubernetes.io/instance": "mlops-dev",
        "app.kubernetes.io/part-of": "mlops",
        "mlops/project": project,
    }


def iris(*, trains_on_cluster: bool) -> ServedProject:
    """iris as Pulumi.dev.yaml serves it: 1..2 replicas, the default thresholds, daily training."""
    return ServedProject(
        project="iris",
        namespace="mlops-dev",
        min_replicas=1,
        max_replicas=2,
        thresholds=AlertThresholds(),
        schedule="0 3 * * *",
        trains_on_cluster=trains_on_cluster,
        follows_latest=True,
    )


@pytest.fixture(scope="module")
def two_projects() -> Recording:
    """dev with digits served beside iris."""
    return run_program("dev", stack_config_with("dev", {"mlops:projects": {"digits": DIGITS}}))


# --- scraping ---------------------------------------------------------------------------------


def test_dev_scrapes_the_iris_servers_metrics_port_every_30_seconds(dev: Recording) -> None:
    assert manifest(dev, "ServiceMonitor", "iris-server") == {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "iris-server", "namespace": "mlops-dev", "labels": server_labels("iris")},
        "spec": {
            "selector": {"matchLabels": server_labels("iris")},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
        },
    }


def test_the_service_monitor_selects_the_serving_service_by_its_labels_and_port_name(dev: Recording) -> None:
    # A selector or port name the Service lacks scrapes nothing, silently: every alert then sits at "no data".
    service = manifest(dev, "Service", "iris-server")
    monitor = manifest(dev, "ServiceMonitor", "iris-server")
    assert monitor["spec"]["selector"]["matchLabels"] == service["metadata"]["labels"]
    assert [p["name"] for p in service["spec"]["ports"]] == [monitor["spec"]["endpoints"][0]["port"]]


def test_the_serving_port_is_open_to_the_scrape_from_any_namespace(dev: Recording) -> None:
    # Prometheus runs in its own namespace: the serving NetworkPolicy must admit 8080 from anywhere.
    policy = manifest(dev, "NetworkPolicy", "iris-server-ingress")["spec"]
    assert policy["podSelector"] == {"matchLabels": server_labels("iris")}
    assert policy["ingress"] == [{"ports": [{"protocol": "TCP", "port": 8080}]}]


def test_two_projects_get_a_service_monitor_each_selecting_only_its_own_service(two_projects: Recording) -> None:
    monitors = {m["metadata"]["name"]: m["spec"]["selector"]["matchLabels"] for m in of_kind(two_projects, "ServiceMonitor")}
    assert monitors == {"iris-server": server_labels("iris"), "digits-server": server_labels("digits")}
    services = {s["metadata"]["name"]: s["metadata"]["labels"] for s in of_kind(two_projects, "Service")}
    selected = {
        name: sorted(service for service, found in services.items() if selector.items() <= found.items())
        for name, selector in monitors.items()
    }
    assert selected == {"iris-server": ["iris-server"], "digits-server": ["digits-server"]}


# --- rules ------------------------------------------------------------------------------------


def test_dev_evaluates_iris_rule_group_as_the_rules_module_writes_it(dev: Recording) -> None:
    assert manifest(dev, "PrometheusRule", "iris-alerts") == {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "iris-alerts", "namespace": "mlops-dev", "labels": server_labels("iris")},
        "spec": {"groups": [rule_group("iris", serving_rules(iris(trains_on_cluster=False)))]},
    }


def test_dev_rules_are_the_six_serving_alerts_where_batch_trains(dev: Recording) -> None:
    [group] = manifest(dev, "PrometheusRule", "iris-alerts")["spec"]["groups"]
    assert [rule["alert"] for rule in group["rules"]] == [
        "ModelServerDown", "ModelServerErrors", "ModelServerSlow", "ModelServerSaturated", "ModelLoadFailing", "ModelStale"
    ]


def test_training_on_the_cluster_adds_the_training_failure_rule(dev_cluster_training: Recording) -> None:
    [group] = manifest(dev_cluster_training, "PrometheusRule", "iris-alerts")["spec"]["groups"]
    assert group == rule_group("iris", serving_rules(iris(trains_on_cluster=True)))
    failed = training_failed("iris", "mlops-dev")
    assert (group["rules"][-1]["alert"], group["rules"][-1]["expr"]) == ("TrainingFailed", failed.expr)


def test_two_projects_get_a_rule_group_each(two_projects: Recording) -> None:
    groups = {r["metadata"]["name"]: [g["name"] for g in r["spec"]["groups"]] for r in of_kind(two_projects, "PrometheusRule")}
    assert groups == {"iris-alerts": ["mlops-iris"], "digits-alerts": ["mlops-digits"]}


# --- alert delivery: Alertmanager -> SNS ------------------------------------------------------


def test_the_namespaces_alerts_go_to_the_stacks_topic_signed_with_the_publishers_key(dev: Recording) -> None:
    assert manifest(dev, "AlertmanagerConfig", "alerts") == {
        "apiVersion": "monitoring.coreos.com/v1alpha1",
        "kind": "AlertmanagerConfig",
        "metadata": {"name": "alerts", "namespace": "mlops-dev", "labels": STACK_LABELS},
        "spec": {
            "route": {"receiver": "alerts", "groupBy": ["alertname", "project"]},
            "receivers": [
                {
                    "name": "alerts",
                    "snsConfigs": [
                        {
                            "topicARN": topic_arn(dev),
                            "sigv4": {
                                "region": "us-east-1",
                                "accessKey": {"name": PUBLISHER_SECRET, "key": "access-key-id"},
                                "secretKey": {"name": PUBLISHER_SECRET, "key": "secret-access-key"},
                            },
                            "subject": SUBJECT,
                            "message": MESSAGE,
                            "sendResolved": True,
                        }
                    ],
                }
            ],
        },
    }


def test_the_notification_names_the_alert_the_project_and_its_summary() -> None:
    assert SUBJECT == "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}: {{ .CommonLabels.project }}"
    assert MESSAGE == (
        "{{ range .Alerts }}{{ .Status | toUpper }} {{ .Labels.alertname }} ({{ .Labels.severity }}): "
        "project {{ .Labels.project }} in namespace {{ .Labels.namespace }}\n"
        "{{ .Annotations.summary }}\n"
        "Runbook: {{ .Annotations.runbook }}\n"
        'Since {{ .StartsAt.Format "2006-01-02 15:04 MST" }}'
        '{{ if eq .Status "resolved" }}, resolved {{ .EndsAt.Format "2006-01-02 15:04 MST" }}{{ end }}\n\n'
        "{{ end }}"
    )


def test_every_label_and_annotation_the_notification_reads_is_on_every_rule() -> None:
    # A name the rules don't set renders empty in the mail; `namespace` is kept by every rule's `by`.
    rules = serving_rules(iris(trains_on_cluster=True))
    read_labels = set(re.findall(r"\.(?:Common)?Labels\.(\w+)", SUBJECT + MESSAGE))
    read_annotations = set(re.findall(r"\.Annotations\.(\w+)", MESSAGE))
    assert read_labels == {"alertname", "project", "severity", "namespace"}
    for rule in rules:
        assert {"project", "severity"} <= rule.labels.keys() and "by (namespace" in rule.expr, rule.alert
        assert read_annotations <= rule.annotations.keys(), rule.alert


def test_the_subject_fits_snss_100_characters_for_the_longest_alert_and_project() -> None:
    longest_alert = max((r.alert for r in serving_rules(iris(trains_on_cluster=True)) + [_degraded()]), key=len)
    longest_project = "p" * 48  # `<project>-server-ingress` must fit 63 (components/project_names.py)
    rendered = (
        SUBJECT.replace("{{ .Status | toUpper }}", "RESOLVED")
        .replace("{{ .CommonLabels.alertname }}", longest_alert)
        .replace("{{ .CommonLabels.project }}", longest_project)
    )
    assert "{{" not in rendered and len(rendered) == 81


def _degraded() -> AlertRule:
    """ModelServerDegraded, which only a project with minReplicas > 1 gets."""
    served = ServedProject(
        project="iris", namespace="mlops-dev", min_replicas=2, max_replicas=3,
        thresholds=AlertThresholds(), schedule=None, trains_on_cluster=False, follows_latest=False,
    )
    [degraded] = [r for r in serving_rules(served) if r.alert == "ModelServerDegraded"]
    return degraded


def test_the_publisher_may_publish_to_the_topic_and_use_its_key_through_sns_only(dev: Recording) -> None:
    user = dev.get("aws:iam/user:User", "monitoring-sns-publisher-user").inputs
    assert (user["name"], user["path"]) == ("mlops-dev-alertmanager-sns", "/mlops/")
    policy = dev.named("monitoring-sns-publisher-policy").inputs
    assert policy["user"] == "mlops-dev-alertmanager-sns"
    assert json.loads(policy["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "PublishToTopic", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn(dev)},
            {
                "Sid": "UseTopicKeyThroughSns",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": dev.get("aws:kms/key:Key", "notifications-key").state["arn"],
                "Condition": {"StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}},
            },
        ],
    }


def test_the_publishers_key_is_in_the_secret_sigv4_reads_one_value_per_key(dev: Recording) -> None:
    key = dev.named("monitoring-sns-publisher-key")
    assert key.inputs["user"] == "mlops-dev-alertmanager-sns"
    assert manifest(dev, "Secret", PUBLISHER_SECRET) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": PUBLISHER_SECRET, "namespace": "mlops-dev", "labels": STACK_LABELS},
        "type": "Opaque",
        "stringData": {"access-key-id": key.id, "secret-access-key": MOCK_SECRET_ACCESS_KEY},
    }


def test_the_publishers_key_is_a_secret_in_the_state(dev: Recording) -> None:
    # A plain value would sit readable in the state file and in `pulumi preview --diff`.
    assert is_secret(dev.get("kubernetes:core/v1:Secret", "monitoring-sns-publisher-credentials").inputs["stringData"])


# --- the dashboard ----------------------------------------------------------------------------


def test_the_dashboard_is_a_configmap_grafanas_sidecar_loads(dev: Recording) -> None:
    assert manifest(dev, "ConfigMap", "mlops-dashboard") == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "mlops-dashboard", "namespace": "mlops-dev", "labels": STACK_LABELS | {"grafana_dashboard": "1"}},
        "data": {"mlops.json": DASHBOARD.read_text()},
    }
    assert json.loads(manifest(dev, "ConfigMap", "mlops-dashboard")["data"]["mlops.json"]) == json.loads(DASHBOARD.read_text())


# --- which stacks get them --------------------------------------------------------------------


@pytest.mark.parametrize("run", ["dev", "dev_cluster_training", "prod_on_aws", "two_projects"])
def test_every_custom_resource_meets_its_crd_schema(request: pytest.FixtureRequest, run: str) -> None:
    recording: Recording = request.getfixturevalue(run)
    custom = {f"{m['kind']}/{m['metadata']['name']}": m for m in manifests(recording) if (m["apiVersion"], m["kind"]) in known_kinds()}
    projects = ["iris", "digits"] if run == "two_projects" else ["iris"]
    assert sorted(custom) == sorted(
        ["AlertmanagerConfig/alerts", *(f"ServiceMonitor/{p}-server" for p in projects), *(f"PrometheusRule/{p}-alerts" for p in projects)]
    )
    assert {where: custom_resource_problems(m) for where, m in custom.items()} == {where: [] for where in custom}


def test_scraping_none_creates_none_of_it(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:monitoring": {"scraping": "none"}})
    assert [m["kind"] for m in manifests(run) if m["kind"] in (*CUSTOM_KINDS, "ConfigMap")] == []
    assert [r.name for r in run.resources if r.name.startswith("monitoring")] == []
    assert "mlops-dev-alertmanager-sns" not in [r.inputs["name"] for r in run.of_type("aws:iam/user:User")]
