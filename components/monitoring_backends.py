"""The factory for watching the served projects: which scraping and alerting path a stack uses,
chosen once from `monitoring.scraping` and the serving cluster.

| scraping | scrapes with | evaluates and delivers alerts with |
| --- | --- | --- |
| prometheus-operator | a ServiceMonitor per project | a PrometheusRule per project, fired into the operator's Alertmanager, which publishes to the stack's SNS topic |
| managed-prometheus (GKE) | a PodMonitoring per project | Cloud Monitoring alert policies (PromQL), to notification channels from monitoring.notify |
| none | nothing | nothing |
"""

from __future__ import annotations

from typing import Protocol

import pulumi

from components.clusters import runs_on_eks
from components.config import StackConfig
from components.monitoring.alert_rules import ServedProject
from components.monitoring.managed_prometheus import ManagedPrometheus, ManagedPrometheusArgs
from components.monitoring.notifications import NotificationTopic
from components.monitoring.prometheus_operator import PrometheusOperatorMonitor, PrometheusOperatorMonitorArgs
from components.pods import Placement
from components.project_names import name_prefix


class ServingMonitor(Protocol):
    """Scrapes a served project's pods and evaluates its alert rules."""

    def watch(self, served: ServedProject) -> None: ...


def served_projects(cfg: StackConfig, *, namespace: str) -> list[ServedProject]:
    """Each served project as its rules see it: its replicas, thresholds and training schedule."""
    trains_on_cluster = cfg.compute.kind != "ec2"
    return [
        ServedProject(
            project=name,
            namespace=namespace,
            min_replicas=project.serve.min_replicas,
            max_replicas=project.serve.max_replicas,
            thresholds=project.serve.alerts.over(cfg.monitoring.alerts),
            schedule=project.train.schedule if project.train is not None else None,
            trains_on_cluster=trains_on_cluster and project.train is not None,
            follows_latest=project.serve.model_version == "latest",
        )
        for name, project in cfg.projects.items()
        if project.serve is not None
    ]


def serving_monitor_for(
    cfg: StackConfig,
    *,
    namespace: str,
    placement: Placement,
    notifications: NotificationTopic,
    on_cluster: pulumi.ResourceOptions,
    on_gcp: pulumi.ResourceOptions,
) -> ServingMonitor | None:
    """The stack's one way of watching its served projects, from `monitoring.scraping` on its serving
    cluster; None where nothing scrapes them."""
    match cfg.monitoring.scraping_on(cfg.serving.cluster):
        case "prometheus-operator":
            return PrometheusOperatorMonitor(
                "monitoring",
                PrometheusOperatorMonitorArgs(
                    placement=placement,
                    notification_topic_arn=notifications.topic_arn,
                    notification_key_arn=notifications.key_arn,
                    # Pod Identity needs nothing in Alertmanager's pods: a role for its ServiceAccount, no key.
                    publisher_identities=placement.identities if runs_on_eks(cfg) else None,
                ),
                opts=on_cluster,
            )
        case "managed-prometheus":
            return managed_prometheus(cfg, namespace=namespace, opts=on_cluster.merge(on_gcp))
        case "none":
            return None


def managed_prometheus(cfg: StackConfig, *, namespace: str, opts: pulumi.ResourceOptions) -> ManagedPrometheus:
    """GKE's: `opts` carry the cluster's `kubernetes` provider and the stack's `gcp` one."""
    if cfg.gke.project is None:
        raise ValueError("managed-prometheus needs gke.project, the GKE cluster's Google Cloud project")
    return ManagedPrometheus(
        "monitoring",
        ManagedPrometheusArgs(
            gcp_project=cfg.gke.project,
            stack_name=name_prefix(cfg.project, cfg.stack),
            notify=cfg.monitoring.notify,
            dashboard_projects=[served.project for served in served_projects(cfg, namespace=namespace)],
            namespace=namespace,
        ),
        opts=opts,
    )
