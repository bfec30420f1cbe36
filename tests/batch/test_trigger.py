"""When a Batch job runs (components/batch/trigger.py): the Scheduler schedule and its role."""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline.engine import ACCOUNT_ID, Recording
from tests.batch.recorded import DEAD_LETTER_QUEUE, JOB_DEFINITION, JOB_QUEUE, SCHEDULE, statements


def test_schedule_follows_training_schedule(dev_scheduled: Recording, prod_on_aws_scheduled: Recording) -> None:
    assert dev_scheduled.one(SCHEDULE).inputs["scheduleExpression"] == "cron(0 3 * * ? *)"
    assert prod_on_aws_scheduled.one(SCHEDULE).inputs["scheduleExpression"] == "cron(0 2 ? * MON-FRI *)"


def test_schedule_runs_in_utc_without_a_flexible_window(dev_scheduled: Recording) -> None:
    inputs = dev_scheduled.one(SCHEDULE).inputs
    assert inputs["scheduleExpressionTimezone"] == "UTC"
    assert inputs["flexibleTimeWindow"] == {"mode": "OFF"}


def test_schedule_submits_through_the_batch_api(dev_scheduled: Recording) -> None:
    assert dev_scheduled.one(SCHEDULE).inputs["target"]["arn"] == "arn:aws:scheduler:::aws-sdk:batch:submitJob"


def test_schedule_submits_the_latest_revision_to_this_queue(dev_scheduled: Recording) -> None:
    request = json.loads(dev_scheduled.one(SCHEDULE).inputs["target"]["input"])
    assert request["JobQueue"] == dev_scheduled.one(JOB_QUEUE).state["arn"]
    assert request["JobDefinition"] == dev_scheduled.one(JOB_DEFINITION).inputs["name"]  # no ":<revision>"
    assert ":" not in request["JobDefinition"]
    assert request["JobName"]


def test_schedule_role_is_assumable_only_by_scheduler_for_this_account(dev_scheduled: Recording) -> None:
    assert dev_scheduled.one(SCHEDULE).inputs["target"]["roleArn"] == dev_scheduled.named("training-schedule-role").state["arn"]
    [trust] = json.loads(dev_scheduled.named("training-schedule-role").inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_schedule_role_may_submit_only_to_this_queue_and_job(dev_scheduled: Recording) -> None:
    submit = statements(dev_scheduled, "training-schedule-submit")["SubmitTrainingJob"]
    definition = dev_scheduled.one(JOB_DEFINITION).state["arnPrefix"]
    assert submit["Action"] == "batch:SubmitJob"
    assert submit["Resource"] == [dev_scheduled.one(JOB_QUEUE).state["arn"], definition, f"{definition}:*"]


def test_a_throttled_submit_is_retried_for_an_hour(dev_scheduled: Recording) -> None:
    # maximumRetryAttempts 0: one throttled SubmitJob silently drops the night's run.
    assert dev_scheduled.one(SCHEDULE).inputs["target"]["retryPolicy"] == {
        "maximumEventAgeInSeconds": 3600,
        "maximumRetryAttempts": 10,
    }


@pytest.mark.parametrize(("stack", "name"), [("dev_scheduled", "mlops-dev-iris-train"), ("prod_on_aws_scheduled", "mlops-prod-iris-train")])
def test_schedule_name_is_unique_per_stack(request: pytest.FixtureRequest, stack: str, name: str) -> None:
    # Schedule names are per account and region: a second stack would overwrite the first one's.
    assert request.getfixturevalue(stack).one(SCHEDULE).inputs["name"] == name


def test_scheduled_jobs_are_named_for_the_stack_and_the_schedule(dev_scheduled: Recording, prod_on_aws_scheduled: Recording) -> None:
    assert json.loads(dev_scheduled.one(SCHEDULE).inputs["target"]["input"])["JobName"] == "mlops-dev-iris-train-scheduled"
    assert json.loads(prod_on_aws_scheduled.one(SCHEDULE).inputs["target"]["input"])["JobName"] == "mlops-prod-iris-train-scheduled"


def test_schedule_target_has_no_other_settings(dev_scheduled: Recording) -> None:
    assert set(dev_scheduled.one(SCHEDULE).inputs["target"]) == {"arn", "roleArn", "input", "retryPolicy", "deadLetterConfig"}


def test_a_submit_that_fails_for_good_goes_to_the_projects_dead_letter_queue(dev_scheduled: Recording) -> None:
    # Without it, a submit still failing after an hour of retries is dropped and nobody hears of it.
    assert dev_scheduled.one(SCHEDULE).inputs["target"]["deadLetterConfig"] == {
        "arn": f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:mlops-dev-iris-train-dlq"
    }
    assert dev_scheduled.one(DEAD_LETTER_QUEUE).state["arn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:mlops-dev-iris-train-dlq"


def test_schedule_role_trust_is_exactly_scheduler_for_this_account(dev_scheduled: Recording) -> None:
    # Without the account condition, any account's schedule could submit through this role.
    assert json.loads(dev_scheduled.named("training-schedule-role").inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
            }
        ],
    }


def test_schedule_role_policy_is_exactly_the_submit_and_dead_letter_grants(dev_scheduled: Recording) -> None:
    definition = dev_scheduled.one(JOB_DEFINITION).state["arnPrefix"]
    policy = json.loads(dev_scheduled.named("training-schedule-submit").inputs["policy"])
    assert dev_scheduled.named("training-schedule-submit").inputs["role"] == dev_scheduled.named("training-schedule-role").state["name"]
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SubmitTrainingJob",
                "Effect": "Allow",
                "Action": "batch:SubmitJob",
                "Resource": [dev_scheduled.one(JOB_QUEUE).state["arn"], definition, f"{definition}:*"],
            },
            {
                # The Scheduler sends dead letters with the schedule's role (its user guide's DLQ page).
                "Sid": "DeadLetterUnsubmittedRuns",
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": [f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:mlops-dev-iris-train-dlq"],
            },
        ],
    }


# --- with Airflow, nothing is scheduled here ----------------------------------------------


def descendants(run: Recording, root: str) -> dict[str, Any]:
    """Every registration under the component `root`, by URN, with its inputs and options."""
    by_parent: dict[str, list[Any]] = {}
    for r in run.resources:
        by_parent.setdefault(r.parent, []).append(r)
    found, todo = {}, [run.one(root).urn]
    while todo:
        for child in by_parent.get(todo.pop(), []):
            found[child.urn] = child
            todo.append(child.urn)
    return found


SCHEDULE_PARTS = {
    "training-iris-schedule", "training-schedule-role", "training-schedule-submit",
    "training-iris-schedule-dlq", "training-iris-schedule-dlq-alarm",
}


def test_with_airflow_batch_has_no_schedule_nor_its_role_queue_or_alarm(dev: Recording) -> None:
    # Airflow submits the runs on the project's schedule; a schedule as well would train twice.
    names = {r.name for r in descendants(dev, "mlops:batch:BatchTraining").values()}
    assert names & SCHEDULE_PARTS == set()
    assert dev.of_type(SCHEDULE) == dev.of_type(DEAD_LETTER_QUEUE) == []


def test_without_airflow_batch_is_the_same_plus_the_schedules(dev: Recording, dev_scheduled: Recording) -> None:
    with_airflow = descendants(dev, "mlops:batch:BatchTraining")
    scheduled = descendants(dev_scheduled, "mlops:batch:BatchTraining")
    assert {r.name for urn, r in scheduled.items() if urn not in with_airflow} == SCHEDULE_PARTS
    assert set(with_airflow) <= set(scheduled)
    assert [r.name for urn, r in with_airflow.items() if r != scheduled[urn]] == []
