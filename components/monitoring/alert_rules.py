"""The alert rules, written once per project as PromQL, and rendered by each cluster kind's
alerting path: a PrometheusRule (prometheus-operator) or Cloud Monitoring alert policies (GKE).

Every rule keeps the `namespace` label in its result (the prometheus-operator's Alertmanager
routes an AlertmanagerConfig's alerts by it), and carries `project` and `severity` labels and
a summary and runbook line in its annotations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from components.config.cron import longest_gap_seconds
from components.config.monitoring import AlertThresholds
from components.monitoring import metrics
from components.project_names import server_name, trainer_name

RATE_WINDOW = "5m"
"""The window of every rate(): at least four scrapes at the default 30 s interval."""

Severity = Literal["critical", "warning"]


@dataclass(frozen=True, kw_only=True)
class AlertRule:
    """One alert of one project, as every alerting path takes it."""

    alert: str
    """The alert's name, CamelCase, the same for every project (the `project` label tells them apart)."""
    project: str
    expr: str
    for_minutes: int
    severity: Severity
    summary: str
    runbook: str

    @property
    def labels(self) -> dict[str, str]:
        return {"project": self.project, "severity": self.severity}

    @property
    def annotations(self) -> dict[str, str]:
        return {"summary": self.summary, "runbook": self.runbook}


@dataclass(frozen=True, kw_only=True)
class ServedProject:
    """What a served project's rules need to know of it."""

    project: str
    namespace: str
    min_replicas: int
    max_replicas: int
    thresholds: AlertThresholds
    schedule: str | None
    """The training schedule, where the project trains; freshness is counted in its runs."""
    trains_on_cluster: bool
    """Training runs as the project's CronJob on this cluster (kube-state-metrics sees its pods)."""
    follows_latest: bool
    """The server follows the promoted version (serve.modelVersion: latest), so a promotion can fail to load."""


def serving_rules(served: ServedProject) -> list[AlertRule]:
    """The project's availability, error, latency, saturation and freshness rules, and its
    training-failure rule where it trains on the cluster."""
    rules = [
        *_availability(served),
        _errors(served),
        _latency(served),
        _saturation(served),
    ]
    if served.follows_latest:
        rules.append(_load_failing(served))
    if served.schedule is not None:
        rules.append(_freshness(served, served.schedule))
    if served.trains_on_cluster:
        rules.append(training_failed(served.project, served.namespace))
    return rules


def _selector(served: ServedProject, *extra: str) -> str:
    """The server's series of this project, with `extra` matchers such as `code=~"5.."`."""
    return "{" + ", ".join((f'namespace="{served.namespace}"', f'model="{served.project}"', *extra)) + "}"


def _deployment(served: ServedProject) -> str:
    return f'{{namespace="{served.namespace}", deployment="{server_name(served.project)}"}}'


def _availability(served: ServedProject) -> list[AlertRule]:
    minutes = served.thresholds.availability_minutes
    deployment = _deployment(served)
    rules = [
        AlertRule(
            alert="ModelServerDown",
            project=served.project,
            expr=f"max by (namespace, deployment) ({metrics.DEPLOYMENT_AVAILABLE}{deployment}) < 1",
            for_minutes=minutes,
            severity="critical",
            summary=f"{served.project}: no serving replica has been ready for {minutes} minutes",
            runbook=f"kubectl -n {served.namespace} describe deployment {server_name(served.project)}; "
            "look at the pods' events and logs (image pull, model load, sha256 mismatch, OOM)",
        )
    ]
    if served.min_replicas > 1:
        rules.append(
            AlertRule(
                alert="ModelServerDegraded",
                project=served.project,
                expr=f"max by (namespace, deployment) ({metrics.DEPLOYMENT_AVAILABLE}{deployment}) "
                f"< {served.min_replicas}",
                for_minutes=minutes,
                severity="warning",
                summary=f"{served.project}: fewer than {served.min_replicas} (minReplicas) serving replicas "
                f"ready for {minutes} minutes",
                runbook=f"kubectl -n {served.namespace} get pods -l mlops/project={served.project}; "
                "a pending pod means no room on the nodes, a crashing one shows why in its logs",
            )
        )
    return rules


def _errors(served: ServedProject) -> AlertRule:
    t = served.thresholds
    server_errors = _selector(served, 'code=~"5.."')
    failed = f"sum by (namespace, model) (rate({metrics.REQUESTS}{server_errors}[{RATE_WINDOW}]))"
    every = f"sum by (namespace, model) (rate({metrics.REQUESTS}{_selector(served)}[{RATE_WINDOW}]))"
    return AlertRule(
        alert="ModelServerErrors",
        project=served.project,
        expr=f"{failed} / {every} > {t.error_ratio:g}",
        for_minutes=t.error_minutes,
        severity="critical",
        summary=f"{served.project}: more than {t.error_ratio:.0%} of infer requests answered 5xx for {t.error_minutes} minutes",
        runbook=f"kubectl -n {served.namespace} logs deployment/{server_name(served.project)}; bad input gets 4xx, "
        "so a 5xx is the server's fault: roll back serve.modelVersion if it began with a new version",
    )


def _latency(served: ServedProject) -> AlertRule:
    t = served.thresholds
    buckets = f"sum by (namespace, model, le) (rate({metrics.LATENCY}_bucket{_selector(served)}[{RATE_WINDOW}]))"
    return AlertRule(
        alert="ModelServerSlow",
        project=served.project,
        expr=f"histogram_quantile(0.99, {buckets}) > {t.latency_p99_seconds:g}",
        for_minutes=t.latency_minutes,
        severity="warning",
        summary=f"{served.project}: p99 infer latency above {t.latency_p99_seconds:g} s for {t.latency_minutes} minutes",
        runbook="compare the request rate with the replicas on the dashboard: at maxReplicas raise it or the pod's cpu; "
        "below it, a slower model version or larger batches are the usual causes",
    )


def _saturation(served: ServedProject) -> AlertRule:
    minutes = served.thresholds.saturation_minutes
    hpa = f'{{namespace="{served.namespace}", horizontalpodautoscaler="{server_name(served.project)}"}}'
    by = "max by (namespace, horizontalpodautoscaler)"
    return AlertRule(
        alert="ModelServerSaturated",
        project=served.project,
        expr=f"{by} ({metrics.HPA_CURRENT}{hpa}) >= {by} ({metrics.HPA_MAX}{hpa})",
        for_minutes=minutes,
        severity="warning",
        summary=f"{served.project}: the autoscaler has been at maxReplicas ({served.max_replicas}) for {minutes} minutes",
        runbook=f"raise projects.{served.project}.serve.maxReplicas (the namespace quota grows with it) "
        "or the pod's cpu, then pulumi up",
    )


def _load_failing(served: ServedProject) -> AlertRule:
    return AlertRule(
        alert="ModelLoadFailing",
        project=served.project,
        expr=f"sum by (namespace, model) (increase({metrics.MODEL_LOAD_FAILURES}{_selector(served)}[15m])) > 0",
        for_minutes=0,
        severity="warning",
        summary=f"{served.project}: the promoted version failed to load; the servers keep the previous one",
        runbook=f"kubectl -n {served.namespace} logs deployment/{server_name(served.project)} names the reason "
        "(sha256 mismatch, library versions, metadata): promote a good version, or point LATEST back",
    )


def _freshness(served: ServedProject, schedule: str) -> AlertRule:
    runs = served.thresholds.freshness_runs
    bound = runs * longest_gap_seconds(schedule)
    return AlertRule(
        alert="ModelStale",
        project=served.project,
        expr=f"time() - max by (namespace, model) ({metrics.MODEL_TRAINED}{_selector(served)}) > {bound}",
        for_minutes=10,
        severity="warning",
        summary=f"{served.project}: the served version is older than {runs} scheduled training runs ({bound // 3600} h)",
        runbook="the recent runs failed, missed the quality gate, or did not reach the server: look at the training "
        "failure notifications and the run logs, then at the version the server reports in mlops_model_info",
    )


def training_failed(project: str, namespace: str) -> AlertRule:
    """A training pod of the project's CronJob failed (kube-state-metrics sees it until the Job is pruned)."""
    pods = f'{{namespace="{namespace}", phase="Failed", pod=~"{trainer_name(project)}-[0-9]+-.+"}}'
    return AlertRule(
        alert="TrainingFailed",
        project=project,
        expr=f"max by (namespace, pod) ({metrics.POD_PHASE}{pods}) > 0",
        for_minutes=0,
        severity="warning",
        summary=f"{project}: a training run's pod failed",
        runbook=f"kubectl -n {namespace} logs <pod>: exit 6 is the quality gate (a real result, not retried); "
        f"any other code is a failure with its reason on the last line",
    )


def rule_group(project: str, rules: list[AlertRule]) -> dict[str, object]:
    """The project's rules as one Prometheus rule group: a PrometheusRule's `spec.groups` item,
    and what `promtool check rules` reads inside `groups:`."""
    return {
        "name": f"mlops-{project}",
        "rules": [
            {
                "alert": rule.alert,
                "expr": rule.expr,
                "for": f"{rule.for_minutes}m",
                "labels": rule.labels,
                "annotations": rule.annotations,
            }
            for rule in rules
        ],
    }
