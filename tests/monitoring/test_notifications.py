"""The stack's notification topic (components/monitoring/notifications.py): its key, its policy,
its subscriptions, on the real stack files."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from components.monitoring.notifications import subscription_name
from offline.engine import ACCOUNT_ID, Recording, run_program, stack_config_with
from tests.support import RunWith

TOPIC = "aws:sns/topic:Topic"
POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
COMPONENT = "mlops:monitoring:NotificationTopic"
NOTIFY = {"emails": ["oncall@example.com", "ml@example.com"], "https": ["https://hooks.example.com/alerts"]}


@pytest.fixture(scope="module")
def subscribed() -> Recording:
    return run_program("dev", stack_config_with("dev", {"mlops:monitoring": {"notify": NOTIFY}}))


def topic_arn(stack: str, region: str = "us-east-1") -> str:
    return f"arn:aws:sns:{region}:{ACCOUNT_ID}:mlops-{stack}-notifications"


def statements(document: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(document)["Statement"]}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_one_topic_per_stack_named_for_it(request: pytest.FixtureRequest, stack: str) -> None:
    # prod runs on GKE: the topic is there too (the budget and the alert path publish to it).
    run: Recording = request.getfixturevalue(stack)
    assert [t.inputs["name"] for t in run.of_type(TOPIC)] == [f"mlops-{stack}-notifications"]
    assert run.outputs["notificationTopicArn"] == topic_arn(stack)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_topic_is_in_the_stacks_region(request: pytest.FixtureRequest, stack: str) -> None:
    run: Recording = request.getfixturevalue(stack)
    topic = run.get(TOPIC, "notifications")
    assert topic.provider.split("::")[-2] == "aws"


def test_the_topic_is_encrypted_with_its_own_key(dev: Recording) -> None:
    # Not alias/aws/sns: AWS's services cannot be let into the managed key's policy.
    key = dev.get("aws:kms/key:Key", "notifications-key")
    assert dev.get(TOPIC, "notifications").inputs["kmsMasterKeyId"] == key.state["arn"]


@pytest.mark.parametrize(("stack", "days"), [("dev", 7), ("prod", 30)])
def test_the_key_rotates_and_waits_the_stacks_window_before_deletion(request: pytest.FixtureRequest, stack: str, days: int) -> None:
    key = request.getfixturevalue(stack).get("aws:kms/key:Key", "notifications-key").inputs
    assert (key["enableKeyRotation"], key["deletionWindowInDays"]) == (True, days)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_key_lets_the_account_administer_and_the_publishers_only_encrypt(request: pytest.FixtureRequest, stack: str) -> None:
    policy = statements(request.getfixturevalue(stack).get("aws:kms/key:Key", "notifications-key").inputs["policy"])
    use = ["kms:GenerateDataKey*", "kms:Decrypt"]
    assert policy == {
        "AccountAdministersTheKey": {
            "Sid": "AccountAdministersTheKey",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        "AlarmsAndBudgetsEncryptForThisAccount": {
            "Sid": "AlarmsAndBudgetsEncryptForThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]},
            "Action": use,
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
        },
        # EventBridge's KMS calls carry no aws:SourceAccount/SourceArn: the topic's encryption context scopes it.
        "RulesEncryptForThisTopic": {
            "Sid": "RulesEncryptForThisTopic",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": use,
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn(stack)}},
        },
    }


def test_the_key_policy_names_the_topic_as_it_is_created(dev: Recording) -> None:
    # The key comes first, so its policy builds the topic's ARN: it must be the one SNS gives.
    policy = statements(dev.get("aws:kms/key:Key", "notifications-key").inputs["policy"])
    context = policy["RulesEncryptForThisTopic"]["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"]
    assert context == dev.get(TOPIC, "notifications").state["arn"]


def publish(service: str, source_arn: str, topic: str) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sns:Publish",
        "Resource": topic,
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}, "ArnLike": {"aws:SourceArn": source_arn}},
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_service_publishes_only_for_this_stacks_rules_and_alarms_and_this_accounts_budgets(
    request: pytest.FixtureRequest, stack: str
) -> None:
    policy = request.getfixturevalue(stack).get(POLICY, "notifications-policy").inputs
    topic = topic_arn(stack)
    assert policy["arn"] == topic
    found = statements(policy["policy"])
    assert {sid: s for sid, s in found.items() if sid != "OwnerManagesTheTopic"} == {
        "StackRulesPublish": {"Sid": "StackRulesPublish", **publish(
            "events.amazonaws.com", f"arn:aws:events:us-east-1:{ACCOUNT_ID}:rule/mlops-{stack}-*", topic)},
        "StackAlarmsPublish": {"Sid": "StackAlarmsPublish", **publish(
            "cloudwatch.amazonaws.com", f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:alarm:mlops-{stack}-*", topic)},
        "AccountBudgetsPublish": {"Sid": "AccountBudgetsPublish", **publish(
            "budgets.amazonaws.com", f"arn:aws:budgets::{ACCOUNT_ID}:*", topic)},
    }


def test_the_owner_keeps_the_default_policys_rights(dev: Recording) -> None:
    # A topic policy replaces the default one, which lets the owner manage and publish.
    owner = statements(dev.get(POLICY, "notifications-policy").inputs["policy"])["OwnerManagesTheTopic"]
    assert owner == {
        "Sid": "OwnerManagesTheTopic",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
        "Action": [
            "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
            "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish",
        ],
        "Resource": topic_arn("dev"),
    }


def test_the_failure_rules_and_alarms_fall_within_what_may_publish(dev_scheduled: Recording) -> None:
    # The publish conditions are name patterns: the program's own rule and alarm names must fit them
    # (the dead-letter alarm exists without Airflow only).
    rules = [r.state["arn"] for r in dev_scheduled.of_type("aws:cloudwatch/eventRule:EventRule")]
    alarms = [a.state["arn"] for a in dev_scheduled.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")]
    assert rules == [f"arn:aws:events:us-east-1:{ACCOUNT_ID}:rule/mlops-dev-iris-failed"]
    assert alarms == [f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:alarm:mlops-dev-iris-train-dlq-not-empty"]


def test_no_subscription_without_notify_entries(dev: Recording) -> None:
    assert dev.of_type(SUBSCRIPTION) == []


def test_one_subscription_per_address_and_endpoint(subscribed: Recording) -> None:
    found = sorted((s.inputs["protocol"], s.inputs["endpoint"], s.inputs["topic"]) for s in subscribed.of_type(SUBSCRIPTION))
    assert found == [
        ("email", "ml@example.com", topic_arn("dev")),
        ("email", "oncall@example.com", topic_arn("dev")),
        ("https", "https://hooks.example.com/alerts", topic_arn("dev")),
    ]


def test_subscriptions_do_not_wait_for_confirmation(subscribed: Recording) -> None:
    # endpoint_auto_confirms unset: the provider returns at once, the subscription pending until confirmed.
    assert all(set(s.inputs) == {"topic", "protocol", "endpoint"} for s in subscribed.of_type(SUBSCRIPTION))


def test_a_subscription_is_named_by_its_endpoint_not_its_place_in_the_list(run_with: RunWith) -> None:
    # Removing the first address must not rename (and so re-subscribe) the second.
    fewer = run_with("dev", **{"mlops:monitoring": {"notify": {"emails": ["ml@example.com"]}}})
    [kept] = fewer.of_type(SUBSCRIPTION)
    digest = hashlib.sha256(b"ml@example.com").hexdigest()[:8]
    assert kept.name == subscription_name("notifications", "email", "ml@example.com") == f"notifications-email-{digest}"


def test_the_component_exposes_the_topic_and_its_key(dev: Recording) -> None:
    outputs = dev.outputs_of(COMPONENT, "notifications")
    assert outputs == {"topicArn": topic_arn("dev"), "keyArn": dev.get("aws:kms/key:Key", "notifications-key").state["arn"]}
