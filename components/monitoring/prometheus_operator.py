"""Scraping, alert rules, alert delivery and the dashboard on a cluster with the prometheus-operator
(kube-prometheus-stack: README "Monitoring"), in the workloads' namespace.

Per served project (`watch`): a ServiceMonitor on its serving Service's /metrics, and a
PrometheusRule with its rule group (components/monitoring/alert_rules.py). Once per stack: an
AlertmanagerConfig that sends the namespace's alerts to the stack's SNS topic, the key it signs
with, and the Grafana dashboard as a ConfigMap the chart's Grafana sidecar loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import serving
from components.iam import topic_publisher_policy
from components.identity import AccessKeyIdentity, WorkloadIdentities
from components.monitoring.alert_rules import ServedProject, rule_group, serving_rules
from components.pods import Placement, labels
from components.project_names import alert_rules_name, cloud_name, project_labels, server_name

DASHBOARD = Path(__file__).with_name("grafana-dashboard.json")
SCRAPE_INTERVAL = "30s"  # alert_rules.RATE_WINDOW (5m) spans ten scrapes
METRICS_PATH = "/metrics"  # images/serve: open without the bearer token (OPEN_PATHS), so no auth here
# kube-prometheus-stack's Grafana sidecar loads every ConfigMap with this label, in every namespace
# (chart values: grafana.sidecar.dashboards.label / labelValue / searchNamespace: ALL).
GRAFANA_DASHBOARD_LABEL = {"grafana_dashboard": "1"}
COMPONENT = "monitoring"
"""The `app.kubernetes.io/name` of the stack-wide objects (the per-project ones are their server's)."""
ALERTS = "alerts"
"""The AlertmanagerConfig and its one receiver."""
SNS_PUBLISHER = "alertmanager-sns"
"""Names the IAM user whose key Alertmanager signs with (`<prefix>-alertmanager-sns`)."""
ALERTMANAGER_NAMESPACE = "monitoring"
ALERTMANAGER_SERVICE_ACCOUNT = "alertmanager"
"""Alertmanager's ServiceAccount, as README's install of kube-prometheus-stack names it
(`--namespace monitoring --set alertmanager.serviceAccount.name=alertmanager`): on EKS its role's
Pod Identity association names it."""
ACCESS_KEY_ID = "access-key-id"
SECRET_ACCESS_KEY = "secret-access-key"
# One notification per alert and project (the operator adds the namespace matcher to the route).
GROUP_BY = ["alertname", "project"]
# An SNS subject is one line of at most 100 ASCII characters: [RESOLVED] + alert + project fits.
SUBJECT = "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}: {{ .CommonLabels.project }}"
MESSAGE = (
    "{{ range .Alerts }}"
    "{{ .Status | toUpper }} {{ .Labels.alertname }} ({{ .Labels.severity }}): "
    "project {{ .Labels.project }} in namespace {{ .Labels.namespace }}\n"
    "{{ .Annotations.summary }}\n"
    "Runbook: {{ .Annotations.runbook }}\n"
    "Since {{ .StartsAt.Format \"2006-01-02 15:04 MST\" }}"
    "{{ if eq .Status \"resolved\" }}, resolved {{ .EndsAt.Format \"2006-01-02 15:04 MST\" }}{{ end }}\n\n"
    "{{ end }}"
)


@dataclass(frozen=True)
class PrometheusOperatorMonitorArgs:
    placement: Placement
    """The workloads' namespace (every object goes there) and the stack's region (the topic's)."""
    notification_topic_arn: pulumi.Output[str]
    """The stack's SNS topic, where Alertmanager publishes."""
    notification_key_arn: pulumi.Output[str]
    """The topic's KMS key: publishing to an encrypted topic uses it."""
    publisher_identities: WorkloadIdentities | None = None
    """The cluster's identities where they need nothing in Alertmanager's own pods (EKS Pod Identity):
    Alertmanager's ServiceAccount then gets a role, and no key exists. None: an IAM user's key in a
    Secret, for a cluster AWS cannot trust."""


class PrometheusOperatorMonitor(pulumi.ComponentResource):
    """The prometheus-operator's objects for the stack's served projects (a `ServingMonitor`)."""

    def __init__(self, name: str, args: PrometheusOperatorMonitorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:monitoring:PrometheusOperatorMonitor", name, None, opts)
        self._name = name
        self._placement = args.placement
        self._child = pulumi.ResourceOptions(parent=self)
        stack_labels = labels(COMPONENT, instance=args.placement.instance)
        self._custom_resource(
            f"{name}-alertmanager-config",
            "monitoring.coreos.com/v1alpha1",
            "AlertmanagerConfig",
            object_name=ALERTS,
            object_labels=stack_labels,
            spec=alertmanager_config_spec(
                args.notification_topic_arn, secret=self._publisher(name, args, stack_labels), region=args.placement.region
            ),
        )
        k8s.core.v1.ConfigMap(
            f"{name}-dashboard",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="mlops-dashboard",
                namespace=args.placement.namespace,
                labels=stack_labels | GRAFANA_DASHBOARD_LABEL,
            ),
            data={"mlops.json": DASHBOARD.read_text()},
            opts=self._child,
        )
        self.register_outputs({})

    def _publisher(self, name: str, args: PrometheusOperatorMonitorArgs, stack_labels: Mapping[str, str]) -> pulumi.Output[str] | None:
        """Who Alertmanager publishes as: its ServiceAccount's role (None: no Secret to sign with), or an
        IAM user whose key is in the Secret this returns."""
        policy = topic_publisher_policy(
            topic_arn=args.notification_topic_arn, kms_key_arn=args.notification_key_arn, region=args.placement.region
        )
        if args.publisher_identities is not None:
            args.publisher_identities.grant(
                f"{name}-sns-publisher",
                namespace=ALERTMANAGER_NAMESPACE,
                service_account=ALERTMANAGER_SERVICE_ACCOUNT,
                policy=policy,
                parent=self,
                labels=stack_labels,
            )
            return None
        return AccessKeyIdentity(
            f"{name}-sns-publisher",
            user_name=cloud_name(args.placement.instance, SNS_PUBLISHER),
            namespace=args.placement.namespace,
            policy=policy,
            labels=stack_labels,
            layout=_sigv4_keys,
            opts=self._child,
        ).secret_name

    def watch(self, served: ServedProject) -> None:
        """Scrape the project's server and evaluate its rules."""
        selector = labels(serving.NAME, instance=self._placement.instance) | project_labels(served.project)
        self._custom_resource(
            f"{self._name}-{served.project}-scrape",
            "monitoring.coreos.com/v1",
            "ServiceMonitor",
            object_name=server_name(served.project),
            object_labels=selector,
            spec={
                # The serving Service carries the same labels as its pods (components/serving.py).
                "selector": {"matchLabels": selector},
                "endpoints": [{"port": serving.PORT_NAME, "path": METRICS_PATH, "interval": SCRAPE_INTERVAL}],
            },
        )
        self._custom_resource(
            f"{self._name}-{served.project}-rules",
            "monitoring.coreos.com/v1",
            "PrometheusRule",
            object_name=alert_rules_name(served.project),
            object_labels=selector,
            spec={"groups": [rule_group(served.project, serving_rules(served))]},
        )

    def _custom_resource(
        self, resource_name: str, api_version: str, kind: str, *, object_name: str, object_labels: Mapping[str, str], spec: Any
    ) -> None:
        k8s.apiextensions.CustomResource(
            resource_name,
            api_version=api_version,
            kind=kind,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=self._placement.namespace, labels=dict(object_labels)),
            spec=spec,
            opts=self._child,
        )


def _sigv4_keys(key_id: pulumi.Output[str], secret: pulumi.Output[str]) -> Mapping[str, pulumi.Output[str]]:
    """The key as snsConfigs' sigv4 reads it: two Secret keys, which the operator copies into
    Alertmanager's generated configuration."""
    return {ACCESS_KEY_ID: key_id, SECRET_ACCESS_KEY: secret}


def alertmanager_config_spec(topic_arn: pulumi.Input[str], *, secret: pulumi.Input[str] | None, region: str) -> dict[str, Any]:
    """Every alert of the namespace (the operator adds that matcher to the route) to the topic,
    signed in the topic's region with the publisher's key from `secret`, or (None) with the
    credentials Alertmanager's pod has (Pod Identity), and again once resolved."""
    sigv4: dict[str, Any] = {"region": region}
    if secret is not None:
        sigv4 |= {"accessKey": {"name": secret, "key": ACCESS_KEY_ID}, "secretKey": {"name": secret, "key": SECRET_ACCESS_KEY}}
    return {
        "route": {"receiver": ALERTS, "groupBy": GROUP_BY},
        "receivers": [
            {
                "name": ALERTS,
                "snsConfigs": [
                    {
                        "topicARN": topic_arn,
                        "sigv4": sigv4,
                        "subject": SUBJECT,
                        "message": MESSAGE,
                        "sendResolved": True,
                    }
                ],
            }
        ],
    }
