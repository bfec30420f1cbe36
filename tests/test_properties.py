"""offline/properties.py: every changed leaf of a resource's inputs, and the replacement table against the providers."""

from __future__ import annotations

from typing import Any

import pytest

from offline.diff import StackDiff, labels
from offline.engine import Recording
from offline.properties import property_changes, replacement_table
from tests.review_support import BUCKET_T, TOPIC_T, dev_with_backup, diff_between
from tests.support import RunWith

PROPERTY_CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any], list[tuple[str, Any, Any, bool]]]] = {
    "top-level-forces": (BUCKET_T, {"bucket": "a"}, {"bucket": "b"}, [("bucket", "a", "b", True)]),
    "nested-forces": (BUCKET_T, {"objectLockConfiguration": {"objectLockEnabled": "Enabled", "x": 1}},
                      {"objectLockConfiguration": {"objectLockEnabled": None, "x": 2}},
                      [("objectLockConfiguration.objectLockEnabled", "Enabled", None, True), ("objectLockConfiguration.x", 1, 2, False)]),
    "update-in-place": (BUCKET_T, {"tags": {"a": "1"}}, {"tags": {"a": "2"}}, [("tags.a", "1", "2", False)]),
    "list-items": (TOPIC_T, {"l": [1, 2]}, {"l": [1, 3]}, [("l[1]", 2, 3, False)]),
    "list-length": (TOPIC_T, {"l": [1]}, {"l": [1, 2]}, [("l", [1], [1, 2], False)]),
    "json-document-by-field": (TOPIC_T, {"policy": '{"a": 1, "b": 2}'}, {"policy": '{"b": 2, "a": 3}'}, [("policy.a", 1, 3, False)]),
    "unknown-type-never-forces": (TOPIC_T, {"name": "a"}, {"name": "b"}, [("name", "a", "b", False)]),
}


@pytest.mark.parametrize("case", PROPERTY_CASES)
def test_property_changes_are_each_changed_leaf(case: str) -> None:
    type_, old, new, expected = PROPERTY_CASES[case]
    assert [(p.path, p.old, p.new, p.forces_replacement) for p in property_changes(type_, old, new)] == expected


def test_an_ignored_path_and_its_children_are_not_diffed() -> None:
    old, new = {"a": {"b": 1, "c": 1}, "ab": 1, "l": [1]}, {"a": {"b": 2, "c": 2}, "ab": 2, "l": [2]}
    assert [p.path for p in property_changes(TOPIC_T, old, new, ignore_changes=("a.b", "l"))] == ["a.c", "ab"]
    assert [p.path for p in property_changes(TOPIC_T, old, new, ignore_changes=("a",))] == ["ab", "l[0]"]


def test_a_change_to_json_keeps_a_secret_value_out() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "s3cret"}
    (change,) = property_changes(TOPIC_T, {"token": secret}, {"token": {**secret, "value": "other"}})
    assert change.to_json() == {"path": "token", "secret": True, "forcesReplacement": False}
    plain = property_changes(TOPIC_T, {"n": 1}, {"n": 2})[0]
    assert plain.to_json() == {"path": "n", "old": 1, "new": 2, "forcesReplacement": False}


def test_replacement_table_covers_every_type_the_program_registers(
    dev: Recording, prod: Recording, prod_on_aws: Recording, dev_cluster_training: Recording, dev_with_backup: Recording,
    prod_aws: Recording, prod_aws_gpu: Recording,
) -> None:
    recordings = (dev, prod, prod_on_aws, dev_cluster_training, dev_with_backup, prod_aws, prod_aws_gpu)
    registered = {r.type for rec in recordings for r in rec.resources if r.custom}
    missing = registered - set(replacement_table()["types"])
    assert missing == set(), f"add these types to offline/data/replacements.json: {sorted(missing)}"


# --- the replacement table against the providers' source (offline/data/replacements.json) ---

def _pool(diff: StackDiff, *, gpu: bool) -> Any:
    pools = [c for c in diff.changes if c.type == "gcp:container/nodePool:NodePool"]
    return next(c for c in pools if ("gpu" in c.name) == gpu)


def test_a_gpu_machine_type_change_updates_the_pool_in_place(prod: Recording, run_with: RunWith) -> None:
    # terraform-provider-google updates machine_type in place since v5.10; a "replace" here sent a
    # reviewer after a prod-delete that would never happen.
    head = run_with("prod", **{"mlops:compute": {"machineType": "g2-standard-8"}})
    diff = diff_between("prod", prod, head)
    pool = _pool(diff, gpu=True)
    assert (pool.action, [(p.path, p.old, p.new) for p in pool.properties]) == (
        "update", [("nodeConfig.machineType", "g2-standard-4", "g2-standard-8")])
    assert "prod-delete" not in labels([diff])


def test_spot_on_the_gpu_pool_still_replaces_it(prod: Recording, run_with: RunWith) -> None:
    # spot is ForceNew in node_config.go: GKE makes a new pool, so the review must say replace.
    head = run_with("prod", **{"mlops:compute": {"spot": True}})
    diff = diff_between("prod", prod, head)
    pool = _pool(diff, gpu=True)
    assert pool.action == "replace"
    assert pool.reasons == ["`nodeConfig.spot` changes, which the provider cannot update in place"]
    assert "prod-delete" in labels([diff])


def test_an_ignored_input_never_forces_a_replacement(prod: Recording, run_with: RunWith) -> None:
    # More serving replicas change the CPU pool's initialNodeCount (ForceNew), which the program
    # ignores after creation; only the autoscaling bounds are updated, and serving stays up.
    head = run_with("prod", **{"mlops:projects": {"iris": {"serve": {"minReplicas": 4}}}})
    pool = _pool(diff_between("prod", prod, head), gpu=False)
    assert pool.action == "update"
    assert [p.path for p in pool.properties] == ["autoscaling.totalMinNodeCount"]


# --- the EKS and RDS entries on the prod-aws stack file's own changes ---------------------------


def _one(diff: StackDiff, type_: str) -> Any:
    [change] = [c for c in diff.changes if c.type == type_]
    return change


def test_a_new_kubernetes_version_updates_the_eks_cluster_in_place(prod_aws: Recording, run_with: RunWith) -> None:
    # version is no ForceNew field of aws_eks_cluster: UpdateClusterVersion, every object stays.
    head = run_with("prod-aws", **{"mlops:eks": {"kubernetesVersion": "1.36"}})
    diff = diff_between("prod-aws", prod_aws, head)
    cluster = _one(diff, "aws:eks/cluster:Cluster")
    assert (cluster.action, [(p.path, p.old, p.new) for p in cluster.properties]) == ("update", [("version", "1.35", "1.36")])
    assert "prod-delete" not in labels([diff])


def test_a_bigger_rds_class_updates_airflows_database_in_place(prod_aws: Recording, run_with: RunWith) -> None:
    head = run_with("prod-aws", **{"mlops:pipeline": {"database": {"instanceClass": "db.t4g.small"}}})
    diff = diff_between("prod-aws", prod_aws, head)
    database = _one(diff, "aws:rds/instance:Instance")
    assert (database.action, [(p.path, p.old, p.new) for p in database.properties]) == (
        "update", [("instanceClass", "db.t4g.micro", "db.t4g.small")])
    assert "prod-delete" not in labels([diff])


def test_another_ci_role_replaces_its_access_entry(run_with: RunWith) -> None:
    # principal_arn is ForceNew in terraform-provider-aws access_entry.go and access_policy_association.go:
    # a new entry and association, the old ones deleted; the cluster itself is untouched.
    base = run_with("prod-aws", **{"mlops:eks": {"ciRoleArn": "arn:aws:iam::123456789012:role/ci-preview"}})
    head = run_with("prod-aws", **{"mlops:eks": {"ciRoleArn": "arn:aws:iam::123456789012:role/ci-preview-2"}})
    diff = diff_between("prod-aws", base, head)
    assert {c.name: c.action for c in diff.changes if c.type.startswith("aws:eks/")} == {
        "eks-ci-entry": "replace", "eks-ci-policy": "replace"}
