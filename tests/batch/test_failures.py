"""Who hears of a failed Batch job (components/batch/failures.py): each project's EventBridge rule,
checked with moto's EventBridge pattern matcher and input transformer on AWS's documented event."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser

from offline.engine import ACCOUNT_ID, Recording, run_program, stack_config_with
from tests.batch.batch_events import EXITED, SAMPLE, state_change
from tests.batch.recorded import FAILURE_RULE, FAILURE_TARGET

DEFINITIONS = f"arn:aws:batch:us-east-1:{ACCOUNT_ID}:job-definition"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:mlops-dev-notifications"


@pytest.fixture(scope="module")
def two() -> Recording:
    """dev with digits training beside iris."""
    digits = {"train": {"source": "images/train", "data": "builtin:digits"}}
    return run_program("dev", stack_config_with("dev", {"mlops:projects": {"digits": digits}}))


def matches(run: Recording, rule: str, event: dict[str, Any]) -> bool:
    """Whether EventBridge (as moto implements its matching) sends `event` to the recorded rule."""
    return EventPattern.load(run.get(FAILURE_RULE, rule).inputs["eventPattern"]).matches_event(cast(Any, event))


def expected_pattern(definition: str) -> dict[str, Any]:
    return {
        "source": ["aws.batch"],
        "detail-type": ["Batch Job State Change"],
        "detail": {"status": ["FAILED"], "jobDefinition": [{"prefix": f"{DEFINITIONS}/{definition}:"}]},
    }


def test_each_project_has_its_own_rule_on_its_own_job_definition(two: Recording) -> None:
    rules = {rule.inputs["name"]: json.loads(rule.inputs["eventPattern"]) for rule in two.of_type(FAILURE_RULE)}
    assert rules == {
        "mlops-dev-digits-failed": expected_pattern("mlops-dev-digits-train"),
        "mlops-dev-iris-failed": expected_pattern("mlops-dev-iris-train"),
    }


def test_each_rule_is_tagged_for_its_project(two: Recording) -> None:
    assert {r.inputs["name"]: r.inputs["tags"] for r in two.of_type(FAILURE_RULE)} == {
        "mlops-dev-digits-failed": {"ml-project": "digits"},
        "mlops-dev-iris-failed": {"ml-project": "iris"},
    }


def test_each_rule_tells_the_stack_topic(two: Recording) -> None:
    targets = {t.inputs["rule"]: (t.inputs["arn"], t.inputs["targetId"]) for t in two.of_type(FAILURE_TARGET)}
    assert targets == {
        "mlops-dev-digits-failed": (TOPIC, "notification-topic"),
        "mlops-dev-iris-failed": (TOPIC, "notification-topic"),
    }
    assert two.get("aws:sns/topic:Topic", "notifications").state["arn"] == TOPIC


def test_the_documented_failed_event_of_the_project_matches(dev: Recording) -> None:
    event = state_change(status="FAILED", job_definition=f"{DEFINITIONS}/mlops-dev-iris-train:1")
    assert matches(dev, "training-iris-failed", event)


def test_every_revision_of_the_project_matches(dev: Recording) -> None:
    # The scheduled run uses the latest revision: a new image or timeout makes a new one.
    event = state_change(status="FAILED", job_definition=f"{DEFINITIONS}/mlops-dev-iris-train:27")
    assert matches(dev, "training-iris-failed", event)


@pytest.mark.parametrize("status", ["SUCCEEDED", "RUNNABLE", "RUNNING"])
def test_other_states_of_the_project_do_not_match(dev: Recording, status: str) -> None:
    event = state_change(status=status, job_definition=f"{DEFINITIONS}/mlops-dev-iris-train:1")
    assert not matches(dev, "training-iris-failed", event)


def test_the_documented_sample_itself_does_not_match(dev: Recording) -> None:
    # RUNNABLE, of another job definition: matched on neither count.
    assert not matches(dev, "training-iris-failed", SAMPLE)


def test_another_projects_failure_matches_only_its_own_rule(two: Recording) -> None:
    digits_failed = state_change(status="FAILED", job_definition=f"{DEFINITIONS}/mlops-dev-digits-train:1")
    assert matches(two, "training-digits-failed", digits_failed)
    assert not matches(two, "training-iris-failed", digits_failed)


def test_a_project_whose_name_extends_this_ones_is_not_matched(dev: Recording) -> None:
    # A project `iris-train` has the definition mlops-dev-iris-train-train: the `:` keeps it out.
    event = state_change(status="FAILED", job_definition=f"{DEFINITIONS}/mlops-dev-iris-train-train:1")
    assert not matches(dev, "training-iris-failed", event)


def test_another_stacks_failure_is_not_matched(dev: Recording) -> None:
    event = state_change(status="FAILED", job_definition=f"{DEFINITIONS}/mlops-prod-iris-train:1")
    assert not matches(dev, "training-iris-failed", event)


def test_the_message_names_the_project_the_job_why_and_where_its_logs_are(dev: Recording) -> None:
    transformer = dev.get(FAILURE_TARGET, "training-iris-failed-notify").inputs["inputTransformer"]
    event = state_change(status="FAILED", job_definition=f"{DEFINITIONS}/mlops-dev-iris-train:1")
    # moto renders as EventBridge does; it also wants the ingestion time EventBridge adds.
    message = EventTemplateParser.parse(
        input_template=transformer["inputTemplate"],
        input_paths_map=transformer["inputPaths"],
        event=cast(Any, {**event, "ingestion-time": 1641944201.0}),
    )
    job = "4c7599ae-0a82-49aa-ba5a-4727fcce14a8"
    assert message == (
        f"Training iris failed: job event-test ({job}) at 2022-01-11T23:36:40Z: {EXITED}. "
        f"State: `aws batch describe-jobs --region us-east-1 --jobs {job}`. "
        "Logs: `aws logs tail /aws/batch/mlops-dev-train --region us-east-1 --log-stream-name-prefix iris/ --since 1d`"
    )


def test_the_message_reads_fields_every_failed_event_has(dev: Recording) -> None:
    # A path an event lacks would leave its <placeholder> in the mail (the test above renders them).
    paths = dev.get(FAILURE_TARGET, "training-iris-failed-notify").inputs["inputTransformer"]["inputPaths"]
    assert paths == {"jobName": "$.detail.jobName", "jobId": "$.detail.jobId", "reason": "$.detail.statusReason", "time": "$.time"}


@pytest.mark.parametrize("stack", ["prod", "dev_cluster_training"])
def test_no_batch_rule_where_batch_does_not_run(request: pytest.FixtureRequest, stack: str) -> None:
    run: Recording = request.getfixturevalue(stack)
    assert (run.of_type(FAILURE_RULE), run.of_type(FAILURE_TARGET)) == ([], [])
