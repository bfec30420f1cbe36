"""The monitoring section: who is notified, the alert thresholds and a project's overrides of
them, how each cluster kind is scraped, and the budget every stack must set."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, StackConfig
from components.config.monitoring import AlertOverrides, AlertThresholds, MonitoringConfig
from tests.config.support import gke_sections, iris, parse, problems

BILLING_ACCOUNT = "01A2B3-C4D5E6-F7A8B9"


def budget(**settings: Any) -> dict[str, Any]:
    return {"monitoring": {"budget": {"monthlyUsd": 10, **settings}}}


def test_notify_keeps_the_addresses_and_endpoints_in_order() -> None:
    notify = parse(monitoring={"notify": {"emails": ["b@example.com", "a@example.org"], "https": ["https://hooks.example.com/x"]}})
    assert notify.monitoring.notify.emails == ["b@example.com", "a@example.org"]
    assert notify.monitoring.notify.https == ["https://hooks.example.com/x"]


def test_an_address_that_is_no_email_is_refused() -> None:
    assert problems(monitoring={"notify": {"emails": ["oncall.example.com"]}}) == [
        'mlops:monitoring.notify.emails: ["oncall.example.com"] is invalid: \'oncall.example.com\' is not an e-mail address'
    ]


def test_a_plain_http_endpoint_is_refused() -> None:
    assert problems(monitoring={"notify": {"https": ["http://hooks.example.com/x"]}}) == [
        'mlops:monitoring.notify.https: ["http://hooks.example.com/x"] is invalid: \'http://hooks.example.com/x\' '
        "is not an https:// URL (plain http would carry alerts in the clear)"
    ]


@pytest.mark.parametrize(
    ("key", "values", "repeated"),
    [
        ("emails", ["a@example.com", "b@example.com", "a@example.com"], "a@example.com"),
        ("https", ["https://h.example.com/a", "https://h.example.com/a"], "https://h.example.com/a"),
    ],
)
def test_a_subscriber_listed_twice_is_refused(key: str, values: list[str], repeated: str) -> None:
    # SNS would make one subscription of the two; the second line is a mistake (a typo of another).
    listed = ", ".join(f'"{value}"' for value in values)
    assert problems(monitoring={"notify": {key: values}}) == [
        f"mlops:monitoring.notify.{key}: [{listed}] is invalid: lists {repeated} more than once"
    ]


@pytest.mark.parametrize("account", ["01a2b3-c4d5e6-f7a8b9", "01A2B3C4D5E6F7A8B9", "01A2B-C4D5E6-F7A8B9", "billingAccounts/01A2B3-C4D5E6-F7A8B9"])
def test_a_billing_account_of_another_shape_is_refused(account: str) -> None:
    assert problems(**budget(gcpBillingAccount=account), **gke_sections()) == [
        f'mlops:monitoring.budget.gcpBillingAccount: "{account}" is invalid: \'{account}\' is not a Cloud Billing '
        "account id (XXXXXX-XXXXXX-XXXXXX, hex upper case)"
    ]


def test_a_billing_account_is_kept_on_a_gke_stack() -> None:
    assert parse(**budget(gcpBillingAccount=BILLING_ACCOUNT), **gke_sections()).monitoring.budget.gcp_billing_account == BILLING_ACCOUNT


def test_a_billing_account_without_gke_is_refused() -> None:
    assert problems(**budget(gcpBillingAccount=BILLING_ACCOUNT)) == [
        f'mlops:monitoring.budget.gcpBillingAccount: "{BILLING_ACCOUNT}" budgets the stack\'s Google Cloud project, '
        "which only compute.kind: gke has"
    ]


def test_managed_prometheus_off_gke_is_refused() -> None:
    assert problems(monitoring={"scraping": "managed-prometheus"}) == [
        'mlops:monitoring.scraping: "managed-prometheus" is GKE\'s; serving.cluster kubeconfig needs '
        "prometheus-operator, none or auto"
    ]


def test_managed_prometheus_on_gke_is_accepted() -> None:
    assert parse(monitoring={"scraping": "managed-prometheus"}, **gke_sections()).monitoring.scraping == "managed-prometheus"


@pytest.mark.parametrize("monitoring", [{}, {"budget": {"monthlyUsd": None}}], ids=["no monitoring section", "monthlyUsd null"])
def test_a_stack_without_a_monthly_budget_is_refused(monitoring: dict[str, Any]) -> None:
    raw: dict[str, Any] = {"environment": "dev", **({"monitoring": monitoring} if monitoring else {})}
    with pytest.raises(ConfigError) as refused:
        StackConfig.parse(raw, project="mlops", stack="dev", aws_region="us-east-1")
    assert refused.value.problems == [
        "mlops:monitoring.budget.monthlyUsd: (unset) is required: the stack's monthly budget in USD; "
        "`make cost` prints the figure to set for this stack"
    ]


def test_a_whole_dollar_budget_is_read_as_a_number() -> None:
    monthly = parse(**budget(monthlyUsd=250)).monitoring.budget.monthly_usd
    assert monthly == 250.0 and type(monthly) is float


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (budget(monthlyUsd=0), "mlops:monitoring.budget.monthlyUsd: 0 is invalid: Input should be greater than 0"),
        (budget(monthlyUsd="10"),
         'mlops:monitoring.budget.monthlyUsd: "10" is invalid: Input should be a valid number; write it as a YAML number, 10, without quotes'),
        ({"monitoring": {"alerts": {"errorRatio": 0}}}, "mlops:monitoring.alerts.errorRatio: 0 is invalid: Input should be greater than 0"),
        ({"monitoring": {"alerts": {"errorRatio": 1.5}}},
         "mlops:monitoring.alerts.errorRatio: 1.5 is invalid: Input should be less than or equal to 1"),
        ({"monitoring": {"alerts": {"latencyP99Seconds": 0}}},
         "mlops:monitoring.alerts.latencyP99Seconds: 0 is invalid: Input should be greater than 0"),
        ({"monitoring": {"alerts": {"latencyP99Seconds": 61}}},
         "mlops:monitoring.alerts.latencyP99Seconds: 61 is invalid: Input should be less than or equal to 60"),
        (iris(serve={"alerts": {"errorRatio": 0}}), "mlops:projects.iris.serve.alerts.errorRatio: 0 is invalid: Input should be greater than 0"),
    ],
    ids=["budget 0", "budget quoted", "error ratio 0", "error ratio over 1", "latency 0", "latency over a minute", "project error ratio 0"],
)
def test_an_amount_out_of_its_open_bounds_is_refused(changes: dict[str, Any], message: str) -> None:
    # The bounds the BOUNDS table of test_stack.py cannot state: above 0, not at it.
    assert problems(**changes) == [message]


def test_a_ratio_of_one_and_a_minute_of_latency_are_accepted() -> None:
    alerts = parse(monitoring={"alerts": {"errorRatio": 1, "latencyP99Seconds": 60}}).monitoring.alerts
    assert (alerts.error_ratio, alerts.latency_p99_seconds) == (1.0, 60.0)


def test_a_mistyped_override_names_the_thresholds() -> None:
    assert problems(**iris(serve={"alerts": {"latencyP99": 2}})) == [
        "mlops:projects.iris.serve.alerts.latencyP99: unknown key (did you mean latencyP99Seconds?); allowed keys in "
        "mlops:projects.iris.serve.alerts are availabilityMinutes, errorRatio, errorMinutes, latencyP99Seconds, "
        "latencyMinutes, saturationMinutes, freshnessRuns"
    ]


@pytest.mark.parametrize(
    ("scraping", "cluster", "resolved"),
    [
        ("auto", "gke", "managed-prometheus"),
        ("auto", "kubeconfig", "prometheus-operator"),
        ("auto", "eks", "prometheus-operator"),
        ("prometheus-operator", "gke", "prometheus-operator"),
        ("none", "gke", "none"),
        ("none", "kubeconfig", "none"),
        ("managed-prometheus", "gke", "managed-prometheus"),
    ],
)
def test_scraping_resolves_auto_per_cluster_kind(scraping: str, cluster: str, resolved: str) -> None:
    assert MonitoringConfig.model_validate({"scraping": scraping}).scraping_on(cluster) == resolved


def test_an_override_replaces_only_the_thresholds_it_sets() -> None:
    stack = AlertThresholds.model_validate({"errorRatio": 0.1, "saturationMinutes": 60})
    own = AlertOverrides.model_validate({"latencyP99Seconds": 2, "freshnessRuns": 5})
    assert own.over(stack).model_dump() == {
        "availability_minutes": 5,
        "error_ratio": 0.1,
        "error_minutes": 5,
        "latency_p99_seconds": 2.0,
        "latency_minutes": 10,
        "saturation_minutes": 60,
        "freshness_runs": 5,
    }


def test_no_override_is_the_stack_thresholds() -> None:
    stack = AlertThresholds.model_validate({"availabilityMinutes": 2, "errorMinutes": 3})
    assert AlertOverrides().over(stack) == stack


def test_a_projects_overrides_are_read_from_its_serve_section() -> None:
    cfg = parse(monitoring={"alerts": {"latencyMinutes": 20}}, **iris(serve={"alerts": {"latencyP99Seconds": 2}}))
    serve = cfg.projects["iris"].serve
    assert serve is not None
    thresholds = serve.alerts.over(cfg.monitoring.alerts)
    assert (thresholds.latency_p99_seconds, thresholds.latency_minutes, thresholds.error_ratio) == (2.0, 20, 0.05)
