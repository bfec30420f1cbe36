"""offline/changes.py: each resource classified by URN as create, update, replace or delete, and moves under an alias."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from offline.changes import compare_resources
from offline.diff import labels
from offline.engine import Recording, run_program
from tests.review_support import BUCKET_T, TOPIC, TOPIC_T, actions_of, diff_between, reg


def test_a_renamed_log_group_is_a_likely_replacement(dev: Recording) -> None:
    group = dev.get("aws:cloudwatch/logGroup:LogGroup", "training-logs")
    renamed = dataclasses.replace(group, inputs={**group.inputs, "name": "/aws/batch/other"})
    diff = diff_between("dev", dev, Recording(resources=[renamed if r is group else r for r in dev.resources]))
    assert actions_of(diff)["training-logs"] == "replace"
    (danger,) = [d for d in diff.danger if d.name == "training-logs"]
    assert danger.kind == "replacement" and "name" in danger.message
    assert "replacement" in labels([diff])


def test_a_replaced_subnet_carries_its_route_table_association_along(dev: Recording) -> None:
    subnet = dev.get("aws:ec2/subnet:Subnet", "training-net-public-0")
    moved = dataclasses.replace(subnet, inputs={**subnet.inputs, "availabilityZone": "us-east-1c"})
    head = Recording(resources=[moved if r is subnet else r for r in dev.resources])
    actions = actions_of(diff_between("dev", dev, head))
    assert actions["training-net-public-0"] == "replace"
    assert actions["training-net-public-rta-0"] == "replace"  # subnetId forces a new association


def test_a_resource_named_like_a_replaced_one_does_not_follow_it(dev_scheduled: Recording) -> None:
    # The Batch queue and a project's schedule may share a name: renaming the schedule replaces it,
    # but the queue's own name is no reference to it, so the queue stays (it once showed as replaced).
    queue = dev_scheduled.get("aws:batch/jobQueue:JobQueue", "training-queue")
    schedule = dev_scheduled.get("aws:scheduler/schedule:Schedule", "training-iris-schedule")
    namesake = dataclasses.replace(schedule, inputs={**schedule.inputs, "name": queue.inputs["name"]},
                                   state={**schedule.state, "name": queue.inputs["name"]}, id=queue.inputs["name"])
    base = Recording(resources=[namesake if r is schedule else r for r in dev_scheduled.resources])
    actions = actions_of(diff_between("dev", base, dev_scheduled))
    assert actions["training-iris-schedule"] == "replace"
    assert "training-queue" not in actions


def test_a_urn_change_with_an_alias_is_a_move(dev: Recording) -> None:
    key = dev.get("aws:kms/key:Key", "registry-key")
    renamed = dataclasses.replace(key, name="registry-kms", urn=key.urn.replace("::registry-key", "::registry-kms"), aliases=(key.urn,))
    head = Recording(resources=[renamed if r is key else r for r in dev.resources])
    diff = diff_between("dev", dev, head)
    (change,) = diff.changes
    assert (change.name, change.action, change.old_urn) == ("registry-kms", "update", key.urn)
    assert diff.danger == []


def test_an_alias_in_the_program_keeps_a_renamed_resource(tmp_path: Path) -> None:
    config = {"aws:region": "us-east-1"}
    program = "import pulumi, pulumi_aws as aws\naws.s3.Bucket({args})\n"
    (tmp_path / "old.py").write_text(program.format(args='"old", bucket="kept"'))
    (tmp_path / "new.py").write_text(program.format(args='"new", bucket="kept", opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old")])'))
    (tmp_path / "bare.py").write_text(program.format(args='"new", bucket="kept"'))
    old, new, bare = (run_program("dev", config, program=tmp_path / f"{name}.py") for name in ("old", "new", "bare"))
    moved = diff_between("dev", old, new)
    assert [(c.name, c.action) for c in moved.changes] == [("new", "update")] and moved.danger == []
    renamed = diff_between("dev", old, bare)
    assert [d.kind for d in renamed.danger] == ["delete", "urn-change"]


def test_a_provider_change_replaces_the_resource_and_says_so() -> None:
    # Another provider is another region or account: the resource is created there and deleted here.
    old = reg(TOPIC_T, "alerts", provider="urn:pulumi:s::mlops::pulumi:providers:aws::aws::id1")
    same_provider_new_id = reg(TOPIC_T, "alerts", provider="urn:pulumi:s::mlops::pulumi:providers:aws::aws::id2")
    moved = reg(TOPIC_T, "alerts", provider="urn:pulumi:s::mlops::pulumi:providers:aws::aws-backup::id1")
    assert compare_resources([old], [same_provider_new_id]) == []
    (change,) = compare_resources([old], [moved])
    assert (change.action, change.reasons, change.options) == (
        "replace", ["its provider changes (another region or account)"],
        ["provider: urn:pulumi:s::mlops::pulumi:providers:aws::aws::id1 -> urn:pulumi:s::mlops::pulumi:providers:aws::aws-backup::id1"])


def test_a_resource_from_the_default_provider_shows_default() -> None:
    (change,) = compare_resources([reg(TOPIC_T, "alerts")], [reg(TOPIC_T, "alerts", provider="urn:p::west::id")])
    assert change.options == ["provider: (default) -> urn:p::west::id"]


def test_a_moved_resource_without_changes_is_an_update_of_its_old_urn() -> None:
    head = reg(TOPIC_T, "alarms", displayName="a", aliases=(TOPIC.urn,))
    (change,) = compare_resources([TOPIC], [head])
    assert (change.urn, change.action, change.old_urn, change.properties) == (head.urn, "update", TOPIC.urn, [])


def test_a_create_lists_every_input_and_protects_as_at_head() -> None:
    (change,) = compare_resources([], [reg(BUCKET_T, "data", protect=True, bucket="b")])
    assert (change.action, change.protected, [(p.path, p.old, p.new) for p in change.properties]) == (
        "create", True, [("bucket", None, "b")])


def test_a_delete_is_protected_as_at_base() -> None:
    (change,) = compare_resources([reg(BUCKET_T, "data", protect=True)], [])
    assert (change.action, change.protected) == ("delete", True)


def test_a_component_is_never_a_change() -> None:
    component = dataclasses.replace(reg("mlops:storage:DataBucket", "data"), custom=False)
    assert compare_resources([component], []) == []


def test_a_resource_change_to_json_names_its_alias_only_when_moved() -> None:
    head = reg(TOPIC_T, "alarms", displayName="a", aliases=(TOPIC.urn,))
    (moved,) = compare_resources([TOPIC], [head])
    (deleted,) = compare_resources([TOPIC], [])
    assert moved.to_json() == {"urn": head.urn, "type": TOPIC_T, "name": "alarms", "action": "update", "protected": False,
                               "properties": [], "replaceReasons": [], "optionChanges": [], "aliasOf": TOPIC.urn}
    assert "aliasOf" not in deleted.to_json()
