"""The API-server rules of tests/k8s_api_rules.py: each rule on objects it must pass and refuse,
then every recorded stack against all of them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from offline.engine import Recording
from tests import k8s_api_rules as rules
from tests.manifests import manifests, of_kind

STACKS = ["dev", "prod", "prod_on_aws", "dev_cluster_training", "prod_public", "prod_aws", "prod_aws_gpu"]
LABELS = {"app.kubernetes.io/name": "web"}


def deployment(*, surge: Any = 1, unavailable: Any = 0, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": LABELS},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}},
            "template": {"metadata": {"labels": LABELS if labels is None else labels}, "spec": {"containers": [{"name": "web"}]}},
        },
    }


def hpa(low: int, high: int, behavior: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"minReplicas": low, "maxReplicas": high}
    if behavior is not None:
        spec["behavior"] = behavior
    return {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"}, "spec": spec}


def pdb(**spec: Any) -> dict[str, Any]:
    return {"kind": "PodDisruptionBudget", "metadata": {"name": "web"}, "spec": spec}


def job(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "backoffLimit": 2,
        "activeDeadlineSeconds": 3 * 600,
        "podFailurePolicy": {"rules": [
            {"action": "FailJob", "onExitCodes": {"containerName": "train", "operator": "In", "values": [2, 3]}},
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        ]},
        "template": {"spec": {"restartPolicy": "Never", "activeDeadlineSeconds": 600, "containers": [{"name": "train"}]}},
    }
    spec.update(changes)
    return spec


# --- Deployment ------------------------------------------------------------------------------


@pytest.mark.parametrize(("surge", "unavailable"), [(1, 0), (0, 1), ("25%", "25%"), ("1%", 0), (0, "50%")])
def test_a_rollout_that_can_add_or_remove_a_pod_is_accepted(surge: Any, unavailable: Any) -> None:
    assert rules.deployment_rollout_can_progress(deployment(surge=surge, unavailable=unavailable)) == []


@pytest.mark.parametrize(("surge", "unavailable"), [(0, 0), ("0%", 0), (0, "0%"), ("0%", "0%")])
def test_a_rollout_that_can_neither_add_nor_remove_a_pod_is_refused(surge: Any, unavailable: Any) -> None:
    assert rules.deployment_rollout_can_progress(deployment(surge=surge, unavailable=unavailable)) == [
        "spec.strategy.rollingUpdate.maxUnavailable: may not be 0 when `maxSurge` is 0"
    ]


def test_a_recreate_deployment_has_no_rolling_update_to_check() -> None:
    recreate = deployment(surge=0, unavailable=0)
    recreate["spec"]["strategy"] = {"type": "Recreate"}
    assert rules.deployment_rollout_can_progress(recreate) == []


def test_a_selector_that_misses_the_template_labels_is_refused() -> None:
    assert rules.deployment_selector_matches_its_template(deployment()) == []
    assert rules.deployment_selector_matches_its_template(deployment(labels={"app.kubernetes.io/name": "other"})) == [
        "spec.template.metadata.labels: `selector` does not match template `labels`"
    ]


def test_a_pre_stop_sleep_longer_than_the_grace_period_is_refused() -> None:
    pod = {"terminationGracePeriodSeconds": 30, "containers": [{"name": "web", "lifecycle": {"preStop": {"sleep": {"seconds": 30}}}}]}
    assert rules.pre_stop_sleep_fits_the_grace_period(pod) == []
    pod["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"] = 31
    assert rules.pre_stop_sleep_fits_the_grace_period(pod) == ["web.lifecycle.preStop.sleep.seconds: must be in 1..30"]


# --- HPA ---------------------------------------------------------------------------------------


def test_hpa_bounds_in_order_are_accepted() -> None:
    assert rules.hpa_replica_bounds(hpa(2, 2)) == []
    assert rules.hpa_replica_bounds(hpa(1, 6)) == []


def test_hpa_maximum_below_its_minimum_is_refused() -> None:
    assert rules.hpa_replica_bounds(hpa(3, 2)) == ["spec.maxReplicas: must be greater than or equal to `minReplicas`"]


def test_hpa_minimum_of_zero_is_refused() -> None:
    assert rules.hpa_replica_bounds(hpa(0, 2)) == ["spec.minReplicas: must be greater than or equal to 1"]


def test_hpa_behavior_outside_the_api_limits_is_refused() -> None:
    fine = {"scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                        "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}]}}
    assert rules.hpa_behavior_is_valid(hpa(1, 2, fine)) == []
    bad = {"scaleDown": {"stabilizationWindowSeconds": 3601, "selectPolicy": "Least",
                         "policies": [{"type": "Nodes", "value": 0, "periodSeconds": 1801}]}}
    assert rules.hpa_behavior_is_valid(hpa(1, 2, bad)) == [
        "spec.behavior.scaleDown.stabilizationWindowSeconds: must be in 0..3600",
        "spec.behavior.scaleDown.selectPolicy: not supported",
        "spec.behavior.scaleDown.policies[0].type: not supported",
        "spec.behavior.scaleDown.policies[0].value: must be greater than zero",
        "spec.behavior.scaleDown.policies[0].periodSeconds: must be in 1..1800",
    ]


# --- PDB ---------------------------------------------------------------------------------------


def test_a_budget_with_both_bounds_or_an_unknown_eviction_policy_is_refused() -> None:
    assert rules.pdb_is_valid(pdb(maxUnavailable=1, unhealthyPodEvictionPolicy="AlwaysAllow")) == []
    assert rules.pdb_is_valid(pdb(minAvailable=1, maxUnavailable=1, unhealthyPodEvictionPolicy="Always")) == [
        "spec: minAvailable and maxUnavailable cannot be both set",
        "spec.unhealthyPodEvictionPolicy: 'Always' not supported",
    ]


@pytest.mark.parametrize("spec", [{"maxUnavailable": 1}, {"minAvailable": 1}, {"maxUnavailable": "10%"}, {"minAvailable": "50%"}])
def test_a_budget_that_leaves_room_for_one_eviction_lets_a_drain_through(spec: dict[str, Any]) -> None:
    assert rules.pdb_allows_a_drain(pdb(**spec), replicas=2) == []


@pytest.mark.parametrize("spec", [{"maxUnavailable": 0}, {"minAvailable": 2}, {"minAvailable": "100%"}, {"maxUnavailable": "0%"}])
def test_a_budget_that_allows_no_eviction_blocks_every_drain(spec: dict[str, Any]) -> None:
    assert rules.pdb_allows_a_drain(pdb(**spec), replicas=2) == ["spec: allows no eviction with 2 pod(s): every node drain blocks"]


def test_a_min_available_budget_on_a_single_pod_blocks_every_drain() -> None:
    assert rules.pdb_allows_a_drain(pdb(minAvailable=1), replicas=1) != []


# --- topology spread -------------------------------------------------------------------------


def test_a_spread_constraint_outside_the_api_values_is_refused() -> None:
    good = {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": LABELS}, "matchLabelKeys": ["pod-template-hash"]}
    assert rules.topology_spread_is_valid({"topologySpreadConstraints": [good]}) == []
    bad = {**good, "maxSkew": 0, "whenUnsatisfiable": "Never", "matchLabelKeys": ["app.kubernetes.io/name"]}
    assert rules.topology_spread_is_valid({"topologySpreadConstraints": [bad, bad]}) == [
        "spec.topologySpreadConstraints[0].maxSkew: must be greater than zero",
        "spec.topologySpreadConstraints[0].whenUnsatisfiable: 'Never' not supported",
        "spec.topologySpreadConstraints[0].matchLabelKeys: 'app.kubernetes.io/name' exists in both matchLabelKeys and labelSelector",
        "spec.topologySpreadConstraints[1].maxSkew: must be greater than zero",
        "spec.topologySpreadConstraints[1].whenUnsatisfiable: 'Never' not supported",
        "spec.topologySpreadConstraints[1]: duplicate ('kubernetes.io/hostname', 'Never')",
        "spec.topologySpreadConstraints[1].matchLabelKeys: 'app.kubernetes.io/name' exists in both matchLabelKeys and labelSelector",
    ]


# --- Job and CronJob -------------------------------------------------------------------------


def test_a_well_formed_pod_failure_policy_is_accepted() -> None:
    assert rules.job_pod_failure_policy_is_valid(job()) == []


def test_a_pod_failure_policy_with_pods_restarted_in_place_is_refused() -> None:
    spec = job()
    spec["template"]["spec"]["restartPolicy"] = "OnFailure"
    assert rules.job_pod_failure_policy_is_valid(spec) == [
        'spec.template.spec.restartPolicy: only "Never" is supported when podFailurePolicy is specified'
    ]


@pytest.mark.parametrize(
    ("codes", "problem"),
    [
        ({"containerName": "trainer", "operator": "In", "values": [2]}, "containerName: must be one of the container names in the pod template"),
        ({"operator": "In", "values": [0, 2]}, "values: must not be 0 for the In operator"),
        ({"operator": "In", "values": [3, 2]}, "values: must be unique and ordered"),
        ({"operator": "NotIn", "values": [2, 2]}, "values: must be unique and ordered"),
    ],
)
def test_an_exit_code_rule_the_api_refuses(codes: dict[str, Any], problem: str) -> None:
    spec = job()
    spec["podFailurePolicy"]["rules"][0]["onExitCodes"] = codes
    assert rules.job_pod_failure_policy_is_valid(spec) == [f"spec.podFailurePolicy.rules[0].onExitCodes.{problem}"]


def test_a_rule_needs_exactly_one_of_exit_codes_and_pod_conditions() -> None:
    spec = job()
    spec["podFailurePolicy"]["rules"][1]["onExitCodes"] = {"operator": "In", "values": [1]}
    assert rules.job_pod_failure_policy_is_valid(spec) == [
        "spec.podFailurePolicy.rules[1]: specify exactly one of onExitCodes and onPodConditions"
    ]


def test_a_job_deadline_shorter_than_all_its_attempts_is_refused() -> None:
    assert rules.job_deadline_spans_every_attempt(job()) == []
    assert rules.job_deadline_spans_every_attempt(job(activeDeadlineSeconds=3 * 600 - 1)) == [
        "spec.activeDeadlineSeconds: 1799 < 3 attempts x 600 s"
    ]
    assert rules.job_deadline_spans_every_attempt(job(backoffLimit=3)) != [], "a fourth attempt needs a fourth deadline"


def test_a_cronjob_schedule_the_api_refuses() -> None:
    good = {"kind": "CronJob", "spec": {"schedule": "0 3 * * *", "timeZone": "Etc/UTC", "concurrencyPolicy": "Forbid",
                                        "startingDeadlineSeconds": 60, "successfulJobsHistoryLimit": 1}}
    assert rules.cronjob_is_valid(good) == []
    bad = copy.deepcopy(good)
    bad["spec"].update(schedule="CRON_TZ=UTC 0 3 * * *", concurrencyPolicy="Queue", startingDeadlineSeconds=-1,
                       failedJobsHistoryLimit=-1)
    assert rules.cronjob_is_valid(bad) == [
        "spec.schedule: cannot use both timeZone field and TZ or CRON_TZ in schedule",
        "spec.schedule: 'CRON_TZ=UTC 0 3 * * *' is not 5-field cron",
        "spec.startingDeadlineSeconds: must be greater than or equal to 0",
        "spec.concurrencyPolicy: not supported",
        "spec.failedJobsHistoryLimit: must be greater than or equal to 0",
    ]


def test_violations_names_the_object_and_the_rule() -> None:
    refused = [deployment(surge=0, unavailable=0), hpa(3, 2), pdb(maxUnavailable=0)]
    assert rules.violations(refused, min_replicas={"web": 3}) == [
        "Deployment/web: spec.strategy.rollingUpdate.maxUnavailable: may not be 0 when `maxSurge` is 0",
        "HorizontalPodAutoscaler/web: spec.maxReplicas: must be greater than or equal to `minReplicas`",
        "PodDisruptionBudget/web: spec: allows no eviction with 3 pod(s): every node drain blocks",
    ]


# --- every recorded stack ----------------------------------------------------------------------


def lowest_replicas(run: Recording) -> dict[str, int]:
    """Each HPA-scaled Deployment's minReplicas, by the Deployment's name."""
    return {h["spec"]["scaleTargetRef"]["name"]: h["spec"]["minReplicas"] for h in of_kind(run, "HorizontalPodAutoscaler")}


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_passes_the_api_server_rules(request: pytest.FixtureRequest, stack: str) -> None:
    # Each of these would fail `pulumi up` only against a real cluster, or leave drains and rollouts stuck.
    run: Recording = request.getfixturevalue(stack)
    assert rules.violations(manifests(run), min_replicas=lowest_replicas(run)) == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_has_the_objects_the_rules_check(request: pytest.FixtureRequest, stack: str) -> None:
    # A rule over no objects passes vacuously: make sure each stack gives them something to check.
    run: Recording = request.getfixturevalue(stack)
    kinds = {m["kind"] for m in manifests(run)}
    assert {"Deployment", "HorizontalPodAutoscaler"} <= kinds
    assert ("PodDisruptionBudget" in kinds) == stack.startswith("prod")
    # prod-aws has none: Batch trains, and its nodes pull images themselves (no pull-secret renewer).
    assert ("CronJob" in kinds) == (not stack.startswith("prod_aws"))
