"""The alert rules through Prometheus's own promtool: every served project's rules of the dev
and prod stacks are valid (`promtool check rules`), and they fire when they should and not
before or otherwise (`promtool test rules`, on series written here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from components.config.cron import longest_gap_seconds
from components.monitoring.alert_rules import AlertRule, ServedProject, rule_group
from tests.monitoring.stack_rules import STACKS, promtool, served, stack_rules, stack_rules_file, write_rules_file

PROJECT = "iris"  # the project both stacks serve


@pytest.mark.parametrize("stack", STACKS)
def test_every_served_projects_rules_pass_promtool_check(stack: str, tmp_path: Path) -> None:
    rules_file = stack_rules_file(stack, tmp_path / "rules.yml")
    result = promtool("check", "rules", rules_file.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(stack_rules(stack))} rules found" in result.stdout


def test_a_broken_expression_fails_promtool_check(tmp_path: Path) -> None:
    [project] = served("prod")
    group = rule_group(PROJECT, stack_rules("prod"))
    rules = cast(list[dict[str, Any]], group["rules"])
    rules[2]["expr"] = rules[2]["expr"].replace("sum by (namespace, model) (", "sum by (namespace, model (", 1)
    write_rules_file(tmp_path / "rules.yml", [group])
    result = promtool("check", "rules", "rules.yml", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f'group "mlops-{project.project}", rule 3, "ModelServerErrors": could not parse expression' in result.stderr


# --- promtool test rules ------------------------------------------------------------------


def project_of(stack: str) -> ServedProject:
    [project] = served(stack)
    assert project.project == PROJECT
    return project


def rule_named(stack: str, alert: str) -> AlertRule:
    [rule] = [rule for rule in stack_rules(stack) if rule.alert == alert]
    return rule


def series(metric: str, values: str, **labels: str) -> dict[str, str]:
    """An input series in promtool's notation: `0+10x30` is 0, 10, ..., 300, one per interval."""
    matchers = ", ".join(f'{name}="{value}"' for name, value in labels.items())
    return {"series": f"{metric}{{{matchers}}}", "values": values}


def at(minutes: int, rule: AlertRule, *firing: dict[str, str]) -> dict[str, Any]:
    """At `minutes`, the rule's alerts that fire: one per label set given (none: none fires)."""
    alerts = [{"exp_labels": {**labels, **rule.labels}, "exp_annotations": rule.annotations} for labels in firing]
    return {"eval_time": f"{minutes}m", "alertname": rule.alert, "exp_alerts": alerts}


def run_rule_tests(stack: str, tmp_path: Path, *cases: tuple[list[dict[str, str]], list[dict[str, Any]]]) -> None:
    """Each case is (input series, expectations), against every rule of the stack; all must hold."""
    stack_rules_file(stack, tmp_path / "rules.yml")
    tests = [{"interval": "1m", "input_series": inputs, "alert_rule_test": expected} for inputs, expected in cases]
    document = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "rules_test.yml").write_text(yaml.safe_dump(document, sort_keys=False, width=1000))
    result = promtool("test", "rules", "rules_test.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("stack", STACKS)
def test_server_down_fires_after_availability_minutes_with_no_replica_available(stack: str, tmp_path: Path) -> None:
    project = project_of(stack)
    rule = rule_named(stack, "ModelServerDown")
    minutes = project.thresholds.availability_minutes
    deployment = {"namespace": project.namespace, "deployment": f"{PROJECT}-server"}
    available = "kube_deployment_status_replicas_available"
    run_rule_tests(
        stack,
        tmp_path,
        ([series(available, "0x30", **deployment)], [at(minutes - 1, rule), at(minutes, rule, deployment)]),
        ([series(available, "1x30", **deployment)], [at(minutes * 3, rule)]),
    )


@pytest.mark.parametrize("stack", STACKS)
def test_server_errors_fire_at_10_percent_5xx_and_not_at_1_percent(stack: str, tmp_path: Path) -> None:
    project = project_of(stack)
    rule = rule_named(stack, "ModelServerErrors")
    assert project.thresholds.error_ratio == 0.05
    minutes = project.thresholds.error_minutes
    model = {"namespace": project.namespace, "model": PROJECT}
    requests = "inference_requests_total"
    # rate() has two samples from minute 1: the ratio is over the line from then on.
    ten_percent = [series(requests, "0+90x30", code="200", **model), series(requests, "0+10x30", code="500", **model)]
    # Bad input (4xx) is the client's fault, not the server's: it does not count.
    one_percent = [
        series(requests, "0+99x30", code="200", **model),
        series(requests, "0+1x30", code="503", **model),
        series(requests, "0+50x30", code="400", **model),
    ]
    run_rule_tests(
        stack,
        tmp_path,
        (ten_percent, [at(minutes, rule), at(minutes + 1, rule, model)]),
        (one_percent, [at(minutes + 1, rule), at(25, rule)]),
    )


@pytest.mark.parametrize("stack", STACKS)
def test_server_slow_fires_from_the_buckets_when_p99_is_slow(stack: str, tmp_path: Path) -> None:
    project = project_of(stack)
    rule = rule_named(stack, "ModelServerSlow")
    assert project.thresholds.latency_p99_seconds == 0.5
    minutes = project.thresholds.latency_minutes
    model = {"namespace": project.namespace, "model": PROJECT}
    bucket = "inference_request_duration_seconds_bucket"

    def per_minute(*cumulative: tuple[str, int]) -> list[dict[str, str]]:
        return [series(bucket, f"0+{count}x30", le=le, **model) for le, count in cumulative]

    # 98 of 100 requests a minute take under 0.25 s and 2 between 0.5 and 1 s: the p50 is fast,
    # the p99 (the 99th) falls in (0.5, 1], at 0.75 s.
    slow_tail = per_minute(("0.25", 98), ("0.5", 98), ("1.0", 100), ("+Inf", 100))
    fast = per_minute(("0.25", 100), ("0.5", 100), ("1.0", 100), ("+Inf", 100))
    run_rule_tests(
        stack,
        tmp_path,
        (slow_tail, [at(minutes, rule), at(minutes + 1, rule, model)]),
        (fast, [at(minutes + 1, rule), at(25, rule)]),
    )


@pytest.mark.parametrize(("stack", "runs_apart_hours"), [("dev", 24), ("prod", 72)])
def test_model_stale_fires_when_the_version_is_older_than_freshness_runs_longest_gaps(
    stack: str, runs_apart_hours: int, tmp_path: Path
) -> None:
    """dev trains daily; prod on weekdays, so its longest gap is the weekend's 72 h."""
    project = project_of(stack)
    assert project.schedule is not None
    assert longest_gap_seconds(project.schedule) == runs_apart_hours * 3600
    rule = rule_named(stack, "ModelStale")
    bound_minutes = project.thresholds.freshness_runs * runs_apart_hours * 60
    model = {"namespace": project.namespace, "model": PROJECT}
    # Trained at the test's time 0: from bound_minutes + 1 it is older than the bound, and the
    # rule waits its 10 minutes before firing.
    trained = series("mlops_model_trained_timestamp_seconds", f"0x{bound_minutes + 30}", **model)
    run_rule_tests(stack, tmp_path, ([trained], [at(bound_minutes + 10, rule), at(bound_minutes + 11, rule, model)]))


@pytest.mark.parametrize("stack", STACKS)
def test_model_load_failing_fires_when_a_promoted_version_is_refused_and_clears_after(stack: str, tmp_path: Path) -> None:
    project = project_of(stack)
    assert project.follows_latest
    rule = rule_named(stack, "ModelLoadFailing")
    model = {"namespace": project.namespace, "model": PROJECT}
    # The counter starts at 0 (the server sets it from the start), one refusal at minute 5, nothing after.
    refused_once = series("mlops_model_load_failures_total", "0x4 1x40", **model)
    never = series("mlops_model_load_failures_total", "0x40", **model)
    run_rule_tests(
        stack,
        tmp_path,
        ([refused_once], [at(4, rule), at(5, rule, model), at(19, rule, model), at(21, rule)]),
        ([never], [at(10, rule), at(30, rule)]),
    )


def test_training_failed_fires_for_a_failed_training_pod_and_not_for_a_server_pod(tmp_path: Path) -> None:
    project = project_of("prod")
    assert project.trains_on_cluster
    rule = rule_named("prod", "TrainingFailed")
    namespace = project.namespace
    phase = "kube_pod_status_phase"
    # A CronJob's pod is <cronjob>-<scheduled minute>-<5 random>; a Deployment's is <name>-<hash>-<5 random>.
    pods = [
        series(phase, "1x10", namespace=namespace, pod="iris-train-29512345-x7k2p", phase="Failed"),
        series(phase, "0x10", namespace=namespace, pod="iris-train-29512345-x7k2p", phase="Running"),
        series(phase, "1x10", namespace=namespace, pod="iris-train-29513785-b4n8q", phase="Succeeded"),
        series(phase, "0x10", namespace=namespace, pod="iris-train-29513785-b4n8q", phase="Failed"),
        series(phase, "1x10", namespace=namespace, pod="iris-server-7c9d8b6f5-q2w3e", phase="Failed"),
        series(phase, "1x10", namespace="other", pod="iris-train-29512345-m9v4t", phase="Failed"),
    ]
    failed = {"namespace": namespace, "pod": "iris-train-29512345-x7k2p"}
    run_rule_tests("prod", tmp_path, (pods, [at(0, rule, failed), at(5, rule, failed)]))


def test_a_wrong_expectation_fails_promtool_test(tmp_path: Path) -> None:
    """The harness can fail: the server-down alert expected a minute early."""
    project = project_of("dev")
    rule = rule_named("dev", "ModelServerDown")
    minutes = project.thresholds.availability_minutes
    deployment = {"namespace": project.namespace, "deployment": f"{PROJECT}-server"}
    down = [series("kube_deployment_status_replicas_available", "0x30", **deployment)]
    with pytest.raises(AssertionError, match="FAILED"):
        run_rule_tests("dev", tmp_path, (down, [at(minutes - 1, rule, deployment)]))
