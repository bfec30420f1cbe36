"""Rules only a real API server enforces, written down so the program can be tested against them.

The schema and checkov accept each combination below; the API server (or, for the last two, the
controllers behind it) refuses or silently mishandles it. Each rule takes a plain manifest (as
tests/manifests.py gives it) and returns what it finds wrong, as sentences: empty means the
object passes. Each cites the validation or documentation it mirrors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

Manifest = dict[str, Any]
Rule = Callable[[Manifest], list[str]]


def int_or_percent(value: int | str | None, total: int, *, round_up: bool) -> int:
    """An IntOrString as the API resolves it against `total` (intstr.GetScaledValueFromIntOrPercent)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"(\d+)%", value)
    if not match:
        raise ValueError(f"not an int or a percentage: {value!r}")
    scaled = int(match.group(1)) * total / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


def deployment_rollout_can_progress(deployment: Manifest) -> list[str]:
    """maxSurge and maxUnavailable may not both be 0: no pod could be added or removed.

    kubernetes pkg/apis/apps/validation/validation.go, ValidateRollingUpdateDeployment:
    "may not be 0 when `maxSurge` is 0". Percentages resolve against 100 there (maxSurge rounds
    up, maxUnavailable down), so "0%" counts as 0 and "1%" of maxSurge does not.
    """
    strategy = deployment["spec"].get("strategy", {})
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return []
    rolling = strategy.get("rollingUpdate")
    if rolling is None or "maxSurge" not in rolling or "maxUnavailable" not in rolling:
        return []  # an unset field defaults to 25%
    surge = int_or_percent(rolling["maxSurge"], 100, round_up=True)
    unavailable = int_or_percent(rolling["maxUnavailable"], 100, round_up=False)
    if surge == 0 and unavailable == 0:
        return ["spec.strategy.rollingUpdate.maxUnavailable: may not be 0 when `maxSurge` is 0"]
    return []


def deployment_selector_matches_its_template(deployment: Manifest) -> list[str]:
    """The selector must select the pod template's labels.

    kubernetes pkg/apis/apps/validation/validation.go, ValidateDeploymentSpec:
    "`selector` does not match template `labels`".
    """
    selector = deployment["spec"]["selector"].get("matchLabels", {})
    labels = deployment["spec"]["template"].get("metadata", {}).get("labels", {})
    if not selector or any(labels.get(key) != value for key, value in selector.items()):
        return ["spec.template.metadata.labels: `selector` does not match template `labels`"]
    return []


def hpa_replica_bounds(hpa: Manifest) -> list[str]:
    """minReplicas >= 1 (without the HPAScaleToZero gate), maxReplicas >= 1 and >= minReplicas.

    kubernetes pkg/apis/autoscaling/validation/validation.go, ValidateHorizontalPodAutoscalerSpec:
    "must be greater than or equal to 1", "must be greater than 0",
    "must be greater than or equal to `minReplicas`".
    """
    spec = hpa["spec"]
    low, high = spec.get("minReplicas", 1), spec["maxReplicas"]
    errors = []
    if low < 1:
        errors.append("spec.minReplicas: must be greater than or equal to 1")
    if high < 1:
        errors.append("spec.maxReplicas: must be greater than 0")
    if high < low:
        errors.append("spec.maxReplicas: must be greater than or equal to `minReplicas`")
    return errors


def hpa_behavior_is_valid(hpa: Manifest) -> list[str]:
    """Scaling rules: a stabilization window of 0..3600 s, each policy's value > 0 and period 1..1800 s,
    a selectPolicy of Max, Min or Disabled.

    kubernetes pkg/apis/autoscaling/validation/validation.go, validateScalingRules and
    validateScalingPolicy (MaxStabilizationWindowSeconds 3600, MaxPeriodSeconds 1800).
    """
    errors = []
    for direction, rules in hpa["spec"].get("behavior", {}).items():
        window = rules.get("stabilizationWindowSeconds", 0)
        if not 0 <= window <= 3600:
            errors.append(f"spec.behavior.{direction}.stabilizationWindowSeconds: must be in 0..3600")
        if rules.get("selectPolicy", "Max") not in {"Max", "Min", "Disabled"}:
            errors.append(f"spec.behavior.{direction}.selectPolicy: not supported")
        policies = rules.get("policies", [])
        if not policies:
            errors.append(f"spec.behavior.{direction}.policies: must specify at least one Policy")
        for i, policy in enumerate(policies):
            if policy["type"] not in {"Pods", "Percent"}:
                errors.append(f"spec.behavior.{direction}.policies[{i}].type: not supported")
            if policy["value"] <= 0:
                errors.append(f"spec.behavior.{direction}.policies[{i}].value: must be greater than zero")
            if not 0 < policy["periodSeconds"] <= 1800:
                errors.append(f"spec.behavior.{direction}.policies[{i}].periodSeconds: must be in 1..1800")
    return errors


def pdb_is_valid(pdb: Manifest) -> list[str]:
    """Exactly one of minAvailable and maxUnavailable; a known unhealthyPodEvictionPolicy.

    kubernetes pkg/apis/policy/validation/validation.go, ValidatePodDisruptionBudgetSpec:
    "minAvailable and maxUnavailable cannot be both set"; supportedUnhealthyPodEvictionPolicies
    IfHealthyBudget and AlwaysAllow.
    """
    spec = pdb["spec"]
    errors = []
    if "minAvailable" in spec and "maxUnavailable" in spec:
        errors.append("spec: minAvailable and maxUnavailable cannot be both set")
    policy = spec.get("unhealthyPodEvictionPolicy", "IfHealthyBudget")
    if policy not in {"IfHealthyBudget", "AlwaysAllow"}:
        errors.append(f"spec.unhealthyPodEvictionPolicy: {policy!r} not supported")
    return errors


def pdb_allows_a_drain(pdb: Manifest, *, replicas: int) -> list[str]:
    """With the fewest pods the workload runs (`replicas`), the budget must allow one eviction.

    Not an API error: the Eviction API answers 429 for ever, and every node drain (a GKE upgrade,
    a scale-in) hangs. kubernetes.io/docs/tasks/run-application/configure-pdb/: "If you set
    maxUnavailable to 0% or 0, or you set minAvailable to 100% or the number of replicas, you are
    requiring zero voluntary evictions."
    """
    spec = pdb["spec"]
    if "maxUnavailable" in spec:
        allowed = int_or_percent(spec["maxUnavailable"], replicas, round_up=True)
    else:
        allowed = replicas - int_or_percent(spec.get("minAvailable", 1), replicas, round_up=True)
    if allowed < 1:
        return [f"spec: allows no eviction with {replicas} pod(s): every node drain blocks"]
    return []


def topology_spread_is_valid(pod_spec: Manifest) -> list[str]:
    """maxSkew > 0; whenUnsatisfiable DoNotSchedule or ScheduleAnyway; one constraint per
    (topologyKey, whenUnsatisfiable); matchLabelKeys not also in the labelSelector.

    kubernetes pkg/apis/core/validation/validation.go, validateTopologySpreadConstraints,
    validateMatchLabelKeysInTopologySpread ("exists in both matchLabelKeys and labelSelector").
    """
    errors = []
    seen: set[tuple[str, str]] = set()
    for i, constraint in enumerate(pod_spec.get("topologySpreadConstraints", [])):
        where = f"spec.topologySpreadConstraints[{i}]"
        if constraint["maxSkew"] <= 0:
            errors.append(f"{where}.maxSkew: must be greater than zero")
        rule = constraint["whenUnsatisfiable"]
        if rule not in {"DoNotSchedule", "ScheduleAnyway"}:
            errors.append(f"{where}.whenUnsatisfiable: {rule!r} not supported")
        pair = (constraint["topologyKey"], rule)
        if pair in seen:
            errors.append(f"{where}: duplicate {pair}")
        seen.add(pair)
        selected = constraint.get("labelSelector", {}).get("matchLabels", {})
        for key in constraint.get("matchLabelKeys", []):
            if key in selected:
                errors.append(f"{where}.matchLabelKeys: {key!r} exists in both matchLabelKeys and labelSelector")
    return errors


def pre_stop_sleep_fits_the_grace_period(pod_spec: Manifest) -> list[str]:
    """A preStop sleep must end within terminationGracePeriodSeconds (default 30).

    kubernetes pkg/apis/core/validation/validation.go, validateSleepAction: the seconds must be
    positive and not exceed the pod's grace period; otherwise the kubelet kills the container
    before SIGTERM's in-flight work can finish.
    """
    grace = pod_spec.get("terminationGracePeriodSeconds", 30)
    errors = []
    for container in pod_spec["containers"]:
        sleep = container.get("lifecycle", {}).get("preStop", {}).get("sleep")
        if sleep is not None and not 0 < sleep["seconds"] <= grace:
            errors.append(f"{container['name']}.lifecycle.preStop.sleep.seconds: must be in 1..{grace}")
    return errors


def job_pod_failure_policy_is_valid(job_spec: Manifest) -> list[str]:
    """A podFailurePolicy needs restartPolicy Never; an onExitCodes rule names a container of the
    pod, its values are unique, ordered, and (for In) never 0.

    kubernetes pkg/apis/batch/validation/validation.go, validateJobSpec ("only \"Never\" is
    supported when podFailurePolicy is specified") and validatePodFailurePolicyRuleOnExitCodes.
    """
    policy = job_spec.get("podFailurePolicy")
    if policy is None:
        return []
    pod = job_spec["template"]["spec"]
    errors = []
    if pod.get("restartPolicy") != "Never":
        errors.append('spec.template.spec.restartPolicy: only "Never" is supported when podFailurePolicy is specified')
    containers = {c["name"] for c in pod["containers"]} | {c["name"] for c in pod.get("initContainers", [])}
    for i, rule in enumerate(policy["rules"]):
        where = f"spec.podFailurePolicy.rules[{i}]"
        if rule["action"] not in {"FailJob", "Ignore", "Count", "FailIndex"}:
            errors.append(f"{where}.action: not supported")
        codes = rule.get("onExitCodes")
        if (codes is None) == (not rule.get("onPodConditions")):
            errors.append(f"{where}: specify exactly one of onExitCodes and onPodConditions")
        if codes is None:
            continue
        if "containerName" in codes and codes["containerName"] not in containers:
            errors.append(f"{where}.onExitCodes.containerName: must be one of the container names in the pod template")
        values = codes["values"]
        if codes["operator"] == "In" and 0 in values:
            errors.append(f"{where}.onExitCodes.values: must not be 0 for the In operator")
        if len(set(values)) != len(values) or values != sorted(values):
            errors.append(f"{where}.onExitCodes.values: must be unique and ordered")
    return errors


def job_deadline_spans_every_attempt(job_spec: Manifest) -> list[str]:
    """The Job's activeDeadlineSeconds must leave every attempt (backoffLimit + 1) its own deadline.

    Not an API error: kubernetes.io/docs/concepts/workloads/controllers/job/ ("Job termination and
    cleanup"): a Job's activeDeadlineSeconds takes precedence over its backoffLimit, so a shorter
    one kills the last retries before their own (the pod's) deadline.
    """
    pod_deadline = job_spec["template"]["spec"].get("activeDeadlineSeconds")
    job_deadline = job_spec.get("activeDeadlineSeconds")
    if pod_deadline is None or job_deadline is None:
        return []
    attempts = job_spec.get("backoffLimit", 6) + 1
    if job_deadline < attempts * pod_deadline:
        return [f"spec.activeDeadlineSeconds: {job_deadline} < {attempts} attempts x {pod_deadline} s"]
    return []


def cronjob_is_valid(cronjob: Manifest) -> list[str]:
    """A 5-field schedule without CRON_TZ/TZ when timeZone is set, a non-negative
    startingDeadlineSeconds, a known concurrencyPolicy, history limits >= 0.

    kubernetes pkg/apis/batch/validation/validation.go, validateCronJobSpec and
    validateScheduleFormat ("cannot use both timeZone field and TZ or CRON_TZ in schedule").
    """
    spec = cronjob["spec"]
    errors = []
    schedule = spec["schedule"]
    if "TZ=" in schedule and "timeZone" in spec:
        errors.append("spec.schedule: cannot use both timeZone field and TZ or CRON_TZ in schedule")
    if len(schedule.split()) != 5:
        errors.append(f"spec.schedule: {schedule!r} is not 5-field cron")
    if spec.get("startingDeadlineSeconds", 0) < 0:
        errors.append("spec.startingDeadlineSeconds: must be greater than or equal to 0")
    if spec.get("concurrencyPolicy", "Allow") not in {"Allow", "Forbid", "Replace"}:
        errors.append("spec.concurrencyPolicy: not supported")
    for limit in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        if spec.get(limit, 0) < 0:
            errors.append(f"spec.{limit}: must be greater than or equal to 0")
    return errors


def violations(manifests: Iterable[Manifest], *, min_replicas: dict[str, int]) -> list[str]:
    """Every rule above, on every object it applies to: `kind/name: problem` lines.

    `min_replicas` gives each HPA-scaled Deployment's lowest replica count (its HPA's
    minReplicas), for the disruption budgets that select it.
    """
    found: list[str] = []

    def check(manifest: Manifest, rule_results: Iterable[str]) -> None:
        found.extend(f"{manifest['kind']}/{manifest['metadata']['name']}: {problem}" for problem in rule_results)

    for manifest in manifests:
        kind = manifest["kind"]
        if kind == "Deployment":
            pod = manifest["spec"]["template"]["spec"]
            for rule in (deployment_rollout_can_progress, deployment_selector_matches_its_template):
                check(manifest, rule(manifest))
            check(manifest, topology_spread_is_valid(pod))
            check(manifest, pre_stop_sleep_fits_the_grace_period(pod))
        elif kind == "HorizontalPodAutoscaler":
            check(manifest, hpa_replica_bounds(manifest))
            check(manifest, hpa_behavior_is_valid(manifest))
        elif kind == "PodDisruptionBudget":
            check(manifest, pdb_is_valid(manifest))
            check(manifest, pdb_allows_a_drain(manifest, replicas=min_replicas[manifest["metadata"]["name"]]))
        elif kind == "CronJob":
            job = manifest["spec"]["jobTemplate"]["spec"]
            check(manifest, cronjob_is_valid(manifest))
            check(manifest, job_pod_failure_policy_is_valid(job))
            check(manifest, job_deadline_spans_every_attempt(job))
            check(manifest, pre_stop_sleep_fits_the_grace_period(job["template"]["spec"]))
    return found
