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

from components.config import StackConfig
from components.monitoring.alert_rules import ServedProject
from components.monitoring.prometheus_operator import PrometheusOperatorMonitor, PrometheusOperatorMonitorArgs
from components.pods import Placement


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
        )
        for name, project in cfg.projects.items()
        if project.serve is not None
    ]


def serving_monitor_for(
    cfg: StackConfig,
    *,
    placement: Placement,
    notification_topic_arn: pulumi.Output[str],
    notification_key_arn: pulumi.Output[str],
    opts: pulumi.ResourceOptions,
) -> ServingMonitor | None:
    """The stack's monitor, from `monitoring.scraping` on its serving cluster; None for `none`."""
    match cfg.monitoring.scraping_on(cfg.serving.cluster):
        case "prometheus-operator":
            return PrometheusOperatorMonitor(
                "monitoring",
                PrometheusOperatorMonitorArgs(
                    placement=placement,
                    notification_topic_arn=notification_topic_arn,
                    notification_key_arn=notification_key_arn,
                ),
                opts=opts,
            )
        case "managed-prometheus":
            return None  # TEMPORARY: GKE's PodMonitoring monitor lands here from its own branch (issue 17)
        case "none":
            return None
