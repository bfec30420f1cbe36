"""A scheduled run that never reached Batch (components/batch/dead_letters.py): each schedule's
dead-letter queue, and the alarm that tells the stack's topic when it holds anything."""

from __future__ import annotations

import json

import pytest

from offline.engine import ACCOUNT_ID, Recording, run_program, stack_config_with
from tests.batch.recorded import DEAD_LETTER_ALARM, DEAD_LETTER_QUEUE, SCHEDULE
from tests.support import SCHEDULED

TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:mlops-dev-notifications"


@pytest.fixture(scope="module")
def two() -> Recording:
    """dev without Airflow, with digits training beside iris."""
    digits = {"train": {"source": "images/train", "data": "builtin:digits"}}
    return run_program("dev", stack_config_with("dev", {"mlops:projects": {"digits": digits}, **SCHEDULED}))


def test_each_projects_schedule_has_its_own_queue(two: Recording) -> None:
    queues = {q.state["arn"]: q.inputs["tags"] for q in two.of_type(DEAD_LETTER_QUEUE)}
    letters = {s.inputs["name"]: s.inputs["target"]["deadLetterConfig"]["arn"] for s in two.of_type(SCHEDULE)}
    prefix = f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}"
    assert letters == {
        "mlops-dev-digits-train": f"{prefix}:mlops-dev-digits-train-dlq",
        "mlops-dev-iris-train": f"{prefix}:mlops-dev-iris-train-dlq",
    }
    assert queues == {
        f"{prefix}:mlops-dev-digits-train-dlq": {"ml-project": "digits"},
        f"{prefix}:mlops-dev-iris-train-dlq": {"ml-project": "iris"},
    }


def test_the_queue_is_encrypted_by_sqs_and_keeps_letters_two_weeks(dev_scheduled: Recording) -> None:
    queue = dev_scheduled.one(DEAD_LETTER_QUEUE).inputs
    assert (queue["sqsManagedSseEnabled"], queue["messageRetentionSeconds"]) == (True, 14 * 24 * 3600)


def test_the_queue_is_a_standard_queue(dev_scheduled: Recording) -> None:
    # The Scheduler refuses a FIFO queue as a dead-letter queue.
    assert "fifoQueue" not in dev_scheduled.one(DEAD_LETTER_QUEUE).inputs


def test_the_alarm_fires_on_the_first_letter(dev_scheduled: Recording) -> None:
    alarm = dev_scheduled.one(DEAD_LETTER_ALARM).inputs
    assert {k: alarm[k] for k in (
        "namespace", "metricName", "dimensions", "statistic", "period", "evaluationPeriods", "threshold", "comparisonOperator",
    )} == {
        "namespace": "AWS/SQS",
        "metricName": "ApproximateNumberOfMessagesVisible",
        "dimensions": {"QueueName": "mlops-dev-iris-train-dlq"},
        "statistic": "Maximum",
        "period": 300,
        "evaluationPeriods": 1,
        "threshold": 0,
        "comparisonOperator": "GreaterThanThreshold",
    }


def test_an_idle_queue_is_not_an_alarm(dev_scheduled: Recording) -> None:
    # SQS stops reporting an idle queue's metrics: missing data must not page anyone.
    assert dev_scheduled.one(DEAD_LETTER_ALARM).inputs["treatMissingData"] == "notBreaching"


def test_the_alarm_tells_the_stack_topic(dev_scheduled: Recording) -> None:
    alarm = dev_scheduled.one(DEAD_LETTER_ALARM).inputs
    assert alarm["alarmActions"] == [TOPIC]
    assert (alarm["name"], alarm["tags"]) == ("mlops-dev-iris-train-dlq-not-empty", {"ml-project": "iris"})


def test_each_projects_alarm_watches_its_own_queue(two: Recording) -> None:
    watched = {a.inputs["name"]: a.inputs["dimensions"]["QueueName"] for a in two.of_type(DEAD_LETTER_ALARM)}
    assert watched == {
        "mlops-dev-digits-train-dlq-not-empty": "mlops-dev-digits-train-dlq",
        "mlops-dev-iris-train-dlq-not-empty": "mlops-dev-iris-train-dlq",
    }


def test_the_schedule_role_may_send_to_every_projects_queue_and_no_other(two: Recording) -> None:
    policy = json.loads(two.named("training-schedule-submit").inputs["policy"])
    [send] = [s for s in policy["Statement"] if s["Sid"] == "DeadLetterUnsubmittedRuns"]
    assert sorted(send["Resource"]) == [q.state["arn"] for q in two.of_type(DEAD_LETTER_QUEUE)]
    assert send["Action"] == "sqs:SendMessage"
