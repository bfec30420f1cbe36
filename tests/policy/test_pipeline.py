"""policy/rules/pipeline.py: the rule on Airflow's Helm release, on compliant and non-compliant values,
on the stacks' own releases, and its named exemptions."""

from __future__ import annotations

from typing import Any

from components.pipeline import chart
from offline.engine import Recording
from policy.rules import RULES_BY_NAME, Opening, openings
from policy.rules import pipeline as rule
from tests.policy.support import RuleCases, violations_of
from tests.support import RunWith

RELEASE = "kubernetes:helm.sh/v3:Release"
FAB = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
HARDENED: dict[str, Any] = {
    "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "500m", "memory": "1Gi"}},
    "securityContexts": {
        "pod": {"runAsNonRoot": True, "runAsUser": 50000, "seccompProfile": {"type": "RuntimeDefault"}},
        "container": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    },
}


def with_contexts(pod: dict[str, Any] | None = None, container: dict[str, Any] | None = None) -> dict[str, Any]:
    """HARDENED with some of its pod or container security context changed."""
    contexts = HARDENED["securityContexts"]
    return {**HARDENED, "securityContexts": {"pod": {**contexts["pod"], **(pod or {})}, "container": {**contexts["container"], **(container or {})}}}


def release(**values: Any) -> dict[str, Any]:
    """An Airflow release's inputs as the program registers them, with some values changed (None removes one)."""
    base: dict[str, Any] = {
        "executor": "KubernetesExecutor",
        "config": {"core": {"auth_manager": FAB, "load_examples": "False"}},
        "triggerer": {"enabled": False},
        **{name: HARDENED for name in rule.COMPONENTS},
    }
    merged = {key: value for key, value in {**base, **values}.items() if value is not None}
    return {"chart": "airflow", "version": "1.18.0", "values": merged}


NAME = "airflow-release-hardened"
PUBLIC = {"type": "LoadBalancer", "annotations": {rule.PUBLIC_API_ANNOTATION: "true"}}


class TestPipelineRules(RuleCases):
    ACCEPTED = {
        "airflow-hardened": (NAME, RELEASE, release()),
        "airflow-another-chart": (NAME, RELEASE, {"chart": "ingress-nginx", "values": {"controller": {}}}),
        "airflow-public-api-asked-for": (NAME, RELEASE, release(apiServer={**HARDENED, "service": PUBLIC})),
        "airflow-cluster-ip-api": (NAME, RELEASE, release(apiServer={**HARDENED, "service": {"type": "ClusterIP"}})),
        "airflow-triggerer-hardened": (NAME, RELEASE, release(triggerer={**HARDENED, "enabled": True})),
    }
    REJECTED = {
        "airflow-celery-executor": (NAME, RELEASE, release(executor="CeleryExecutor")),
        "airflow-simple-auth-manager": (NAME, RELEASE, release(config={"core": {"auth_manager": rule.SIMPLE_AUTH_MANAGER}})),
        "airflow-default-auth-manager": (NAME, RELEASE, release(config={"core": {"load_examples": "False"}})),
        "airflow-root-pods": (NAME, RELEASE, release(scheduler=with_contexts(pod={"runAsUser": 0}))),
        "airflow-non-root-unset": (NAME, RELEASE, release(workers=with_contexts(pod={"runAsNonRoot": None}))),
        "airflow-unconfined-seccomp": (NAME, RELEASE, release(dagProcessor=with_contexts(pod={"seccompProfile": {"type": "Unconfined"}}))),
        "airflow-escalation": (NAME, RELEASE, release(apiServer=with_contexts(container={"allowPrivilegeEscalation": True}))),
        "airflow-keeps-capabilities": (NAME, RELEASE, release(migrateDatabaseJob=with_contexts(container={"capabilities": {"drop": ["NET_RAW"]}}))),
        "airflow-no-limits": (NAME, RELEASE, release(createUserJob={**HARDENED, "resources": {}})),
        "airflow-global-contexts-only": (NAME, RELEASE, release(scheduler={"resources": HARDENED["resources"]})),
        "airflow-triggerer-by-default": (NAME, RELEASE, release(triggerer=None)),
        "airflow-public-api-not-asked-for": (NAME, RELEASE, release(apiServer={**HARDENED, "service": {"type": "LoadBalancer"}})),
    }
    REJECTED_ON_EVERY_TYPE = {NAME: {RELEASE: release(executor="CeleryExecutor")}}
    # Each component the rule lists is checked: one left with the chart's defaults is refused.
    VALUE_CASES = {
        f"airflow-{component}-unhardened": (NAME, RELEASE, release(**{component: {}}), False)
        for component in rule.COMPONENTS
    } | {
        "airflow-fab-auth-manager": (NAME, RELEASE, release(config={"core": {"auth_manager": FAB}}), True),
        "airflow-simple-auth-manager-listed": (NAME, RELEASE, release(config={"core": {"auth_manager": rule.SIMPLE_AUTH_MANAGER}}), False),
    }


def test_every_problem_is_named_in_one_message() -> None:
    inputs = release(executor="LocalExecutor", workers=with_contexts(container={"allowPrivilegeEscalation": True}))
    [violation] = violations_of(NAME, RELEASE, inputs)
    assert violation.message == (
        "executor is 'LocalExecutor'; set KubernetesExecutor; "
        "workers: securityContexts.container.allowPrivilegeEscalation is not false"
    )


def test_the_stacks_releases_pass(dev: Recording, prod: Recording) -> None:
    for recording in (dev, prod):
        inputs = recording.one(RELEASE).inputs
        assert violations_of(NAME, RELEASE, inputs) == []


def test_a_public_api_release_passes_and_the_same_load_balancer_unmarked_does_not(run_with: RunWith) -> None:
    public = run_with("prod", **{"mlops:pipeline": {"publicApi": True}}).one(RELEASE).inputs
    assert violations_of(NAME, RELEASE, public) == []
    values = {**public["values"], "apiServer": {**public["values"]["apiServer"], "service": {"type": "LoadBalancer"}}}
    [violation] = violations_of(NAME, RELEASE, {**public, "values": values})
    assert "set mlops:pipeline.publicApi: true" in violation.message


def test_the_program_and_the_rule_agree_on_the_names_they_share() -> None:
    assert (chart.PUBLIC_API_ANNOTATION, chart.SIMPLE_AUTH_MANAGER, chart.EXECUTOR) == (
        rule.PUBLIC_API_ANNOTATION, rule.SIMPLE_AUTH_MANAGER, rule.KUBERNETES_EXECUTOR)
    assert set(rule.COMPONENTS) == {*chart.SIZES}


def test_each_exemption_names_a_rule_of_the_pack_and_says_why() -> None:
    for exempt, reason in rule.EXEMPTIONS.items():
        assert exempt in RULES_BY_NAME, exempt
        assert len(reason) > 80, f"{exempt}: say why"


def test_a_public_api_is_an_opening_the_review_reports() -> None:
    assert openings(RELEASE, release(apiServer={**HARDENED, "service": PUBLIC})) == [
        Opening("Airflow's api-server load balancer", "TCP 8080", "0.0.0.0/0")
    ]
    assert openings(RELEASE, release()) == []
    assert openings(RELEASE, {"chart": "other", "values": {"apiServer": {"service": {"type": "LoadBalancer"}}}}) == []
