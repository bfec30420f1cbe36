"""offline/diff.py: one stack's diff of two renderings, its labels, and stacks in their order.

Most fixtures are two configs of the real program (run in process, cached per module);
the rest are hand-made registrations (tests/review_support.py).
"""

from __future__ import annotations

import pytest

from offline.diff import StackRun, compare_stack, labels
from offline.engine import Recording, Registration
from tests.support import SCHEDULED
from tests.review_support import (
    BUCKET_T, DATA, KEY, KEY_RENAMED, RENAMED_DATA, TOPIC, TOPIC_T, FakeViolation, actions_of, dev_with_backup,
    diff_between, diff_of, reg, run_changed,
)


def test_the_same_program_is_no_infra_change(dev: Recording) -> None:
    diff = diff_between("dev", dev, dev)
    assert diff.changes == [] and diff.danger == []
    assert labels([diff]) == ["no-infra-change"]


def test_new_resources_are_creates(dev: Recording, dev_with_backup: Recording) -> None:
    diff = diff_between("dev", dev, dev_with_backup)
    actions = actions_of(diff)
    assert actions["data-backup"] == "create"
    assert actions["data-replication"] == "create"
    assert set(actions.values()) == {"create"}
    assert diff.danger == []


def test_removed_resources_are_deletes_and_dangerous(dev: Recording, dev_with_backup: Recording) -> None:
    diff = diff_between("dev", dev_with_backup, dev)
    assert actions_of(diff)["data-backup"] == "delete"
    assert any(d.kind == "delete" and d.name == "data-backup" for d in diff.danger)


def test_a_lifecycle_change_is_an_update_with_the_changed_field(dev: Recording) -> None:
    head = run_changed("dev", **{"mlops:storage": {"noncurrentVersionDays": 14}})
    diff = diff_between("dev", dev, head)
    (change,) = diff.changes
    assert (change.name, change.action) == ("data-lifecycle", "update")
    (prop,) = change.properties
    assert (prop.path, prop.old, prop.new) == ("rules[1].noncurrentVersionExpiration.noncurrentDays", 7, 14)
    assert labels([diff]) == []


def test_a_schedule_change_updates_the_schedule_in_place(dev_scheduled: Recording) -> None:
    head = run_changed("dev", **{"mlops:projects": {"iris": {"train": {"schedule": "0 5 * * *"}}}, **SCHEDULED})
    diff = diff_between("dev", dev_scheduled, head)
    assert actions_of(diff) == {"training-iris-schedule": "update"}
    assert diff.danger == []
    assert labels([diff]) == []


def test_with_airflow_a_schedule_change_is_a_new_dag_image_and_airflow_rolled_onto_it(dev: Recording) -> None:
    # The schedule is in the DAG image's pipeline.json: a new content tag, and the release's images.airflow.
    head = run_changed("dev", **{"mlops:projects": {"iris": {"train": {"schedule": "0 5 * * *"}}}})
    diff = diff_between("dev", dev, head)
    assert actions_of(diff) == {"images-pipeline": "update", "airflow-release": "update"}
    assert diff.danger == []


def test_an_instance_type_change_updates_the_compute_environment_in_place(dev: Recording) -> None:
    head = run_changed("dev", **{"mlops:compute": {"instanceType": "g5.xlarge"}})
    diff = diff_between("dev", dev, head)
    assert actions_of(diff) == {"training-ce": "update"}
    assert diff.danger == []
    assert diff.idle_delta == 0, "instances bill only while a job runs"


# --- labels, on hand-made registrations ---

# (base, head, environment, base environment) -> exactly the labels the PR gets.
LABEL_CASES: dict[str, tuple[list[Registration], list[Registration], str, str | None, list[str]]] = {
    "prod-replacement": ([DATA], [RENAMED_DATA], "prod", None, ["prod-delete", "replacement"]),
    "prod-delete": ([DATA, TOPIC], [TOPIC], "prod", None, ["prod-delete"]),
    "prod-urn-change": ([KEY], [KEY_RENAMED], "prod", None, ["prod-delete"]),
    "dev-replacement": ([DATA], [RENAMED_DATA], "dev", None, ["replacement"]),
    "dev-delete": ([DATA, TOPIC], [TOPIC], "dev", None, []),
    "dev-urn-change": ([KEY], [KEY_RENAMED], "dev", None, []),
    "moved-off-prod-delete": ([DATA, TOPIC], [TOPIC], "dev", "prod", ["prod-delete"]),
    "prod-create": ([TOPIC], [TOPIC, DATA], "prod", None, []),
    "prod-update": ([TOPIC], [reg(TOPIC_T, "alerts", displayName="b")], "prod", None, []),
    "no-change": ([TOPIC], [TOPIC], "prod", None, ["no-infra-change"]),
    "dev-unprotect": ([reg(BUCKET_T, "data", protect=True)], [reg(BUCKET_T, "data")], "dev", None, ["protection-change"]),
}


@pytest.mark.parametrize("case", LABEL_CASES)
def test_each_kind_of_change_gets_exactly_its_labels(case: str) -> None:
    # The labels route the PR: prod-delete asks for a second reviewer; a missing one lets a prod
    # replacement (data gone, a new empty bucket) merge with one approval.
    base, head, environment, base_environment, expected = LABEL_CASES[case]
    assert labels([diff_of(base, head, environment=environment, base_environment=base_environment)]) == expected


def test_a_failed_stack_and_a_mandatory_violation_are_labelled() -> None:
    failed = compare_stack("s", StackRun("dev", None, "boom"), StackRun("dev", [TOPIC]))
    blocked = compare_stack("t", StackRun("dev", [TOPIC]), StackRun("dev", [TOPIC]),
                            policy=[FakeViolation("r", "mandatory", TOPIC.urn, "m")])
    advised = compare_stack("u", StackRun("dev", [TOPIC]), StackRun("dev", [TOPIC]),
                            policy=[FakeViolation("r", "advisory", TOPIC.urn, "m")])
    assert (labels([failed]), labels([blocked]), labels([advised])) == (["stack-failed"], ["no-infra-change", "policy-violation"], ["no-infra-change"])


def test_one_changed_stack_among_unchanged_ones_is_an_infra_change() -> None:
    unchanged = diff_of([TOPIC], [TOPIC])
    assert labels([unchanged, diff_of([DATA], [RENAMED_DATA], environment="dev")]) == ["replacement"]


def test_a_prod_exposure_is_labelled_and_a_dev_one_is_not() -> None:
    public = reg(BUCKET_T, "data", acl="public-read")
    assert (labels([diff_of([reg(BUCKET_T, "data")], [public])]),
            labels([diff_of([reg(BUCKET_T, "data")], [public], environment="dev")])) == (["prod-exposed"], [])


def test_stacks_come_prod_first_then_by_name() -> None:
    from offline.diff import compare_sides

    runs = {"b": StackRun("dev", [TOPIC]), "a": StackRun("dev", [TOPIC]), "z": StackRun("prod", [TOPIC])}
    assert [d.stack for d in compare_sides(runs, runs)] == ["z", "a", "b"]


def test_a_removed_stack_is_all_delete_and_counts_by_action() -> None:
    d = compare_stack("s", StackRun("prod", [TOPIC, DATA]), None)
    assert (d.status, d.counts, d.is_prod) == ("removed", {"create": 0, "update": 0, "replace": 0, "delete": 2}, True)
