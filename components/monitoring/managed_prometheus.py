"""Watching the served projects on GKE: Google Cloud Managed Service for Prometheus scrapes them,
Cloud Monitoring evaluates their alert rules and tells people directly.

- Scraping: a PodMonitoring per project (monitoring.googleapis.com/v1), which the cluster's managed
  collection (components/gke/control_plane.py, MONITORING) picks up: the project's serving pods'
  `/metrics`, every 30 s. The replica, autoscaler and pod figures come from GKE's managed kube state
  metrics packages, enabled on the same cluster.
- Alerting: each rule of components/monitoring/alert_rules.py (the same PromQL) as a Cloud Monitoring
  alert policy with a PromQL condition; no Alertmanager runs.
- Notifying: Cloud Monitoring cannot publish to an SNS topic, so the policies notify the people of
  `monitoring.notify` directly, through one notification channel per e-mail address and https URL.
- A dashboard: components/monitoring/grafana-dashboard.json's panels, one group per project.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.config.monitoring import NotifyConfig
from components.monitoring.alert_rules import AlertRule, ServedProject, rule_group, serving_rules
from components.monitoring.cloud_dashboard import cloud_monitoring_dashboard, grafana_dashboard
from components.pods import labels
from components.project_names import project_labels, project_tags, server_name
from components.serving import NAME as SERVER, PORT_NAME

SCRAPE_INTERVAL = "30s"
"""Also how often each alert policy evaluates its query: a new sample, a new evaluation."""
METRICS_PATH = "/metrics"
SEVERITIES = {"critical": "CRITICAL", "warning": "WARNING"}


@dataclass(frozen=True)
class ManagedPrometheusArgs:
    gcp_project: str
    """Where the alert policies, channels and dashboard live: the cluster's project (gke.project)."""
    stack_name: str
    """The stack's name prefix (`mlops-prod`): the display names start with it."""
    notify: NotifyConfig
    dashboard_projects: Sequence[str]
    """The served projects, each a group of the stack's one dashboard."""
    namespace: str
    """The workloads' namespace, which the dashboard's queries filter on."""


class ManagedPrometheus(pulumi.ComponentResource):
    """The stack's notification channels and dashboard; per watched project, its PodMonitoring and alert policies.

    Its resource options carry the `kubernetes` (the GKE cluster's) and `gcp` providers."""

    channels: list[gcp.monitoring.NotificationChannel]

    def __init__(self, name: str, args: ManagedPrometheusArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:monitoring:ManagedPrometheus", name, None, opts)
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self)
        self.channels = notification_channels(args, child=self._child)
        if args.dashboard_projects:
            dashboard = cloud_monitoring_dashboard(
                grafana_dashboard(),
                display_name=f"{args.stack_name}: serving and training",
                namespace=args.namespace,
                projects=args.dashboard_projects,
            )
            gcp.monitoring.Dashboard(
                "monitoring-dashboard", project=args.gcp_project, dashboard_json=json.dumps(dashboard), opts=self._child
            )
        self.register_outputs({})

    def watch(self, served: ServedProject) -> None:
        pod_monitoring(served, child=self._child)
        rules = serving_rules(served)
        group = str(rule_group(served.project, rules)["name"])
        for rule in rules:
            alert_policy(rule, self._args, group=group, channels=self.channels, child=self._child)


def pod_monitoring(served: ServedProject, *, child: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """The project's serving pods, as their Deployment selects them (the instance label is the namespace's name)."""
    selector = labels(SERVER, instance=served.namespace) | project_labels(served.project)
    return k8s.apiextensions.CustomResource(
        f"monitoring-{served.project}-scrape",
        api_version="monitoring.googleapis.com/v1",
        kind="PodMonitoring",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=server_name(served.project), namespace=served.namespace, labels=selector),
        spec={
            "selector": {"matchLabels": selector},
            "endpoints": [{"port": PORT_NAME, "path": METRICS_PATH, "interval": SCRAPE_INTERVAL}],
        },
        opts=child,
    )


def alert_policy(
    rule: AlertRule,
    args: ManagedPrometheusArgs,
    *,
    group: str,
    channels: Sequence[gcp.monitoring.NotificationChannel],
    child: pulumi.ResourceOptions,
) -> gcp.monitoring.AlertPolicy:
    """One rule as a policy of one PromQL condition (Cloud Monitoring allows no more with PromQL)."""
    return gcp.monitoring.AlertPolicy(
        f"monitoring-{rule.project}-{rule.alert}",
        project=args.gcp_project,
        display_name=f"{args.stack_name} {rule.project}: {rule.alert}",
        combiner="OR",
        conditions=[
            gcp.monitoring.AlertPolicyConditionArgs(
                display_name=rule.alert,
                condition_prometheus_query_language=gcp.monitoring.AlertPolicyConditionConditionPrometheusQueryLanguageArgs(
                    query=rule.expr,
                    duration=f"{rule.for_minutes * 60}s",
                    evaluation_interval=SCRAPE_INTERVAL,
                    alert_rule=rule.alert,
                    rule_group=group,
                    labels=rule.labels,
                    # Cloud Monitoring refuses a PromQL condition on a metric it has never received, and
                    # on a new stack nothing has been scraped yet when the policies are created.
                    disable_metric_validation=True,
                ),
            )
        ],
        documentation=gcp.monitoring.AlertPolicyDocumentationArgs(
            content=f"{rule.summary}\n\n**Runbook:** {rule.runbook}", mime_type="text/markdown"
        ),
        severity=SEVERITIES[rule.severity],
        user_labels=project_tags(rule.project),
        notification_channels=[channel.name for channel in channels],
        opts=child,
    )


def notification_channels(
    args: ManagedPrometheusArgs, *, child: pulumi.ResourceOptions
) -> list[gcp.monitoring.NotificationChannel]:
    """An e-mail channel per address and a webhook per https URL (`monitoring.notify`), named by
    what they reach, so that adding or removing one leaves the others be."""
    emails = [
        gcp.monitoring.NotificationChannel(
            f"monitoring-notify-{address}",
            project=args.gcp_project,
            type="email",
            display_name=f"{args.stack_name} alerts: {address}",
            labels={"email_address": address},
            opts=child,
        )
        for address in args.notify.emails
    ]
    webhooks = [
        gcp.monitoring.NotificationChannel(
            # A URL's "://" has no place in a resource name; a digest of it names it as steadily.
            f"monitoring-notify-webhook-{hashlib.sha256(url.encode()).hexdigest()[:12]}",
            project=args.gcp_project,
            type="webhook_tokenauth",
            display_name=f"{args.stack_name} alerts: webhook {url.split('/')[2]}",
            labels={"url": url},
            opts=child,
        )
        for url in args.notify.https
    ]
    return emails + webhooks
