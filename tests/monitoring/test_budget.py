"""StackBudget: the stack's AWS budget on what carries its tag, alerting the stack's topic at the
forecast and at the actual; and, on a GKE stack given a billing account, a Cloud Billing budget."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config.monitoring import BudgetConfig
from components.monitoring.budget import CostAllocationTag, StackBudget, StackBudgetArgs
from offline.engine import ACCOUNT_ID, MOCK_GCP_PROJECT_NUMBER, Recording
from tests.support import RunWith

BILLING_ACCOUNT = "01A2B3-C4D5E6-F7A8B9"


def topic(stack: str) -> str:
    # The stack's notification topic's ARN as the mock engine gives it (test_topic_is_the_stacks_notification_topic).
    return f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:mlops-{stack}-notifications"


def test_topic_is_the_stacks_notification_topic(dev: Recording, prod: Recording) -> None:
    for stack, recording in (("dev", dev), ("prod", prod)):
        assert recording.get("aws:sns/topic:Topic", "notifications").state["arn"] == topic(stack)


def alerts(stack: str, forecast: float, actual: float) -> list[dict[str, Any]]:
    return [
        {"notificationType": kind, "comparisonOperator": "GREATER_THAN", "threshold": percent,
         "thresholdType": "PERCENTAGE", "subscriberSnsTopicArns": [topic(stack)]}
        for kind, percent in (("FORECASTED", forecast), ("ACTUAL", actual))
    ]


def test_dev_budget_is_its_monthly_usd_on_the_dev_tag_alerting_the_topic(dev: Recording) -> None:
    assert dev.one("aws:budgets/budget:Budget").inputs == {
        "name": "mlops-dev-monthly",
        "budgetType": "COST",
        "timeUnit": "MONTHLY",
        "limitAmount": "10.00",
        "limitUnit": "USD",
        "costFilters": [{"name": "TagKeyValue", "values": ["user:stack$dev"]}],
        "notifications": alerts("dev", 100.0, 100.0),
    }


def test_prod_budget_counts_the_prod_tag(prod: Recording) -> None:
    budget = prod.one("aws:budgets/budget:Budget").inputs
    assert (budget["name"], budget["limitAmount"]) == ("mlops-prod-monthly", "350.00")
    assert budget["costFilters"] == [{"name": "TagKeyValue", "values": ["user:stack$prod"]}]
    assert budget["notifications"] == alerts("prod", 100.0, 100.0)


def test_the_thresholds_and_amount_come_from_config(run_with: RunWith) -> None:
    recording = run_with("dev", **{"mlops:monitoring": {"budget": {"monthlyUsd": 12.5, "forecastPercent": 80, "actualPercent": 120}}})
    budget = recording.one("aws:budgets/budget:Budget").inputs
    assert budget["limitAmount"] == "12.50"
    assert budget["notifications"] == alerts("dev", 80.0, 120.0)


def test_the_filtered_tag_is_the_one_every_aws_resource_carries(dev: Recording) -> None:
    # A budget on a tag nothing carries would see $0 forever, and never alert.
    (provider,) = [r for r in dev.of_type("pulumi:providers:aws") if r.name == "aws"]
    assert json.loads(provider.inputs["defaultTags"])["tags"]["stack"] == "dev"
    # ... and the budget is made through that tagging provider.
    assert dev.one("aws:budgets/budget:Budget").provider.rsplit("::", 1)[0] == provider.urn


def test_no_google_cloud_budget_without_a_billing_account(dev: Recording, prod: Recording) -> None:
    for recording in (dev, prod):
        assert recording.of_type("gcp:billing/budget:Budget") == []
        assert [r for r in recording.of_type("gcp:projects/service:Service") if r.inputs["service"] == "billingbudgets.googleapis.com"] == []
        assert "gcp:organizations/getProject:getProject" not in [token for token, _ in recording.invokes]


def gcp_budget_stack(run_with: RunWith) -> Recording:
    return run_with("prod", **{"mlops:monitoring": {"budget": {"monthlyUsd": 250.5, "forecastPercent": 90, "gcpBillingAccount": BILLING_ACCOUNT}}})


def test_a_billing_account_adds_a_google_cloud_budget_on_the_project(run_with: RunWith) -> None:
    recording = gcp_budget_stack(run_with)
    budget = recording.one("gcp:billing/budget:Budget")
    assert budget.inputs == {
        "billingAccount": BILLING_ACCOUNT,
        "displayName": "mlops-prod-monthly",
        "budgetFilter": {"projects": [f"projects/{MOCK_GCP_PROJECT_NUMBER}"], "calendarPeriod": "MONTH"},
        "amount": {"specifiedAmount": {"currencyCode": "USD", "units": "250", "nanos": 500_000_000}},
        "thresholdRules": [
            {"thresholdPercent": 0.9, "spendBasis": "FORECASTED_SPEND"},
            {"thresholdPercent": 1.0, "spendBasis": "CURRENT_SPEND"},
        ],
    }
    # The project's number, looked up for the stack's project (the filter takes numbers only),
    # through the stack's Google Cloud provider, as the budget is made.
    assert ("gcp:organizations/getProject:getProject", {"projectId": "mlops-prod-123456"}) in recording.invokes
    (provider,) = recording.of_type("pulumi:providers:gcp")
    assert dict(recording.invoke_providers)["gcp:organizations/getProject:getProject"].rsplit("::", 1)[0] == provider.urn
    assert budget.provider.rsplit("::", 1)[0] == provider.urn


def test_the_google_cloud_budget_waits_for_the_budgets_api(run_with: RunWith) -> None:
    recording = gcp_budget_stack(run_with)
    (api,) = [r for r in recording.of_type("gcp:projects/service:Service") if r.inputs["service"] == "billingbudgets.googleapis.com"]
    assert api.inputs == {"project": "mlops-prod-123456", "service": "billingbudgets.googleapis.com", "disableOnDestroy": False}
    assert api.urn in recording.one("gcp:billing/budget:Budget").dependencies


def test_the_aws_budget_is_unchanged_by_a_google_cloud_one(run_with: RunWith) -> None:
    budget = gcp_budget_stack(run_with).one("aws:budgets/budget:Budget").inputs
    assert (budget["limitAmount"], budget["notifications"]) == ("250.50", alerts("prod", 90.0, 100.0))


def args(**budget: Any) -> StackBudgetArgs:
    return StackBudgetArgs(
        name_prefix="mlops-dev",
        budget=BudgetConfig.model_validate(budget),
        topic_arn=topic("dev"),
        cost_allocation_tag=CostAllocationTag("stack", "dev"),
    )


@pytest.mark.parametrize(
    ("budget", "reason"),
    [
        ({}, "a stack budget needs monitoring.budget.monthlyUsd"),
        ({"monthlyUsd": 10, "gcpBillingAccount": BILLING_ACCOUNT}, "a Google Cloud budget needs the stack's Google Cloud project"),
    ],
)
def test_a_budget_it_cannot_make_is_refused_before_anything_is_registered(budget: dict[str, Any], reason: str) -> None:
    # The config's rules already refuse both; the component does not rely on its caller for them.
    with pytest.raises(ValueError) as refused:
        StackBudget("budget", args(**budget))
    assert str(refused.value) == reason


def test_the_filter_value_is_the_user_tag_key_and_value() -> None:
    assert CostAllocationTag("stack", "prod").budget_filter_value == "user:stack$prod"
