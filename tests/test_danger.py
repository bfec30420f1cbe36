"""offline/danger.py: what can harm in a change, exposure to the internet first, then deletes, URN and protection changes."""

from __future__ import annotations

import dataclasses
import json

from offline.changes import compare_resources
from offline.danger import Danger, danger
from offline.diff import StackDiff, labels
from offline.engine import Recording
from tests.review_support import (
    BUCKET_T, DATA, KEY, KEY_RENAMED, KEY_T, RENAMED_DATA, TOPIC, TOPIC_T, actions_of, diff_between, diff_of, edited,
    prod_as_dev, reg,
)
from tests.support import RunWith


def test_removing_prod_protection_is_first_under_danger(prod: Recording, prod_as_dev: Recording) -> None:
    diff = diff_between("prod", prod, prod_as_dev, environment="prod")
    first = diff.danger[0]
    assert first.kind in ("protected-delete", "protection-change")
    kinds = [d.kind for d in diff.danger]
    assert kinds.index("protection-change") < kinds.index("delete")
    bucket = next(d for d in diff.danger if d.kind == "protection-change" and d.name == "data" and d.type == "aws:s3/bucket:Bucket")
    assert "protect: true -> false (protection removed)" in bucket.message
    # The access-log bucket is protected in prod and gone in this change.
    assert any(d.kind == "protected-delete" and d.name == "data-access-logs" for d in diff.danger)
    assert {"prod-delete", "protection-change"} <= set(labels([diff]))


def test_a_urn_change_without_an_alias_is_flagged(dev: Recording) -> None:
    key = dev.get("aws:kms/key:Key", "registry-key")
    renamed = dataclasses.replace(key, name="registry-kms", urn=key.urn.replace("::registry-key", "::registry-kms"))
    head = Recording(resources=[renamed if r is key else r for r in dev.resources])
    diff = diff_between("dev", dev, head)
    assert actions_of(diff) == {"registry-key": "delete", "registry-kms": "create"}
    (urn_change,) = [d for d in diff.danger if d.kind == "urn-change"]
    assert key.urn in urn_change.message and renamed.urn in urn_change.message


# --- exposure to the internet: first under Danger, labelled prod-exposed -----------------------

def test_a_public_serving_endpoint_is_first_under_danger(prod: Recording, run_with: RunWith) -> None:
    # publicEndpoint: true drops the internal annotation: the model answers the whole internet.
    # It comes before the pool replacement (spot) in the same change.
    head = run_with("prod", **{"mlops:gke": {"publicEndpoint": True}, "mlops:compute": {"spot": True}})
    diff = diff_between("prod", prod, head)
    assert [d.kind for d in diff.danger] == ["exposure", "replacement"]
    first = diff.danger[0]
    assert (first.kind, first.type, first.name) == ("exposure", "kubernetes:core/v1:Service", "serving-iris-service")
    assert first.message.startswith("opens to the internet: its load balancer admits every address on TCP 8080")
    assert "prod-exposed" in labels([diff])


def test_a_dev_exposure_is_danger_without_the_prod_label(dev: Recording) -> None:
    head = edited(dev, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "serving-iris-ingress",
                   spec={**dev.get("kubernetes:networking.k8s.io/v1:NetworkPolicy", "serving-iris-ingress").inputs["spec"],
                         "ingress": [{}]})
    diff = diff_between("dev", dev, head)
    assert [(d.kind, d.name) for d in diff.danger] == [("exposure", "serving-iris-ingress")]
    assert "prod-exposed" not in labels([diff])


def test_a_network_policy_opened_to_every_port_is_an_exposure(prod: Recording) -> None:
    # The serving policy admits every source on 8080 only; dropping its ports admits them on all.
    policy = prod.get("kubernetes:networking.k8s.io/v1:NetworkPolicy", "serving-iris-ingress")
    head = edited(prod, policy.type, policy.name, spec={**policy.inputs["spec"], "ingress": [{}]})
    (exposure,) = [d for d in diff_between("prod", prod, head).danger if d.kind == "exposure"]
    assert (exposure.name, exposure.message) == ("serving-iris-ingress", "opens to the internet: pod ingress admits every address")


def test_a_network_policy_narrowed_to_the_cluster_is_no_exposure(prod: Recording) -> None:
    policy = prod.get("kubernetes:networking.k8s.io/v1:NetworkPolicy", "serving-iris-ingress")
    rule = {**policy.inputs["spec"]["ingress"][0], "from": [{"namespaceSelector": {}}]}
    head = edited(prod, policy.type, policy.name, spec={**policy.inputs["spec"], "ingress": [rule]})
    assert [d.kind for d in diff_between("prod", prod, head).danger] == []


def test_a_public_authorized_network_is_an_exposure(prod: Recording, run_with: RunWith) -> None:
    # The control plane answers a new range of internet addresses: a reviewer checks who owns it.
    head = run_with("prod", **{"mlops:gke": {"authorizedNetworks": ["35.1.2.0/24"]}})
    (exposure,) = [d for d in diff_between("prod", prod, head).danger if d.kind == "exposure"]
    assert (exposure.type, exposure.message) == (
        "gcp:container/cluster:Cluster", "opens to the internet: the control plane admits 35.1.2.0/24")


def test_a_public_bucket_policy_is_an_exposure(prod: Recording) -> None:
    policy = prod.get("aws:s3/bucketPolicy:BucketPolicy", "data-policy")
    statement = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    document = json.loads(policy.inputs["policy"])
    public = json.dumps({**document, "Statement": [*document["Statement"], statement]})
    diff = diff_between("prod", prod, edited(prod, policy.type, policy.name, policy=public))
    assert [(d.kind, d.name, d.message) for d in diff.danger] == [
        ("exposure", "data-policy", "opens to the internet: the bucket policy admits every address")]
    assert labels([diff]) == ["prod-exposed"]


def test_a_public_load_balancer_says_what_made_it_public_and_what_it_needs(prod: Recording, prod_public: Recording) -> None:
    (exposure,) = [d for d in diff_between("prod", prod, prod_public).danger if d.kind == "exposure" and d.name == "serving-iris-service"]
    assert exposure.message.endswith(
        " (no internal load-balancer annotation: `mlops:gke.publicEndpoint: true` does this; "
        "the endpoint needs authentication in front of it)")


# --- the order of the danger list, on hand-made registrations ---

def kinds(d: StackDiff) -> list[tuple[str, str, str]]:
    return [(x.kind, x.name, x.message) for x in d.danger]


def test_a_replacement_says_why_and_a_delete_says_deleted() -> None:
    assert kinds(diff_of([DATA, TOPIC], [RENAMED_DATA])) == [
        ("delete", "alerts", "is deleted"),
        ("replacement", "data", "likely replaced (estimate): `bucket` changes, which the provider cannot update in place"),
    ]


def test_a_protected_resource_replaced_or_deleted_is_first_among_deletes() -> None:
    # `pulumi up` stops on it: the reviewer must know before merging, not at deploy time.
    base = [reg(BUCKET_T, "data", protect=True, bucket="a"), reg(TOPIC_T, "alerts", protect=True)]
    head = [reg(BUCKET_T, "data", protect=True, bucket="b")]
    assert kinds(diff_of(base, head)) == [
        ("protected-delete", "data", "is protected and would be replaced: `pulumi up` stops on it until it is unprotected"),
        ("protected-delete", "alerts", "is protected and would be deleted: `pulumi up` stops on it until it is unprotected"),
        ("delete", "alerts", "is deleted"),
        ("replacement", "data", "likely replaced (estimate): `bucket` changes, which the provider cannot update in place"),
    ]


def test_protection_removed_comes_before_protection_added() -> None:
    base = [reg(TOPIC_T, "a", protect=True), reg(TOPIC_T, "b"), reg(TOPIC_T, "c", retain=True)]
    head = [reg(TOPIC_T, "a"), reg(TOPIC_T, "b", protect=True), reg(TOPIC_T, "c")]
    assert kinds(diff_of(base, head)) == [
        ("protection-change", "a", "protect: true -> false (protection removed)"),
        ("protection-change", "c", "retainOnDelete: true -> false (protection removed)"),
        ("protection-change", "b", "protect: false -> true"),
    ]


def test_within_one_kind_the_data_comes_first() -> None:
    # A bucket, then its key, then the registry: what holds data is read first.
    repo = reg("aws:ecr/repository:Repository", "repo")
    base = [TOPIC, repo, KEY, DATA]
    assert [x.name for x in diff_of(base, []).danger] == ["data", "key", "repo", "alerts"]


def test_the_danger_kinds_come_in_their_order() -> None:
    base = [reg(BUCKET_T, "data", protect=True), reg(KEY_T, "key", description="k"), reg(TOPIC_T, "t", bucket="x"),
            reg("aws:cloudwatch/logGroup:LogGroup", "logs", name="a")]
    head = [reg(BUCKET_T, "data", acl="public-read"), reg(KEY_T, "key2", description="k"),
            reg("aws:cloudwatch/logGroup:LogGroup", "logs", name="b")]
    assert [x.kind for x in diff_of(base, head).danger] == [
        "exposure", "protection-change", "delete", "delete", "urn-change", "replacement"]


def test_a_urn_change_is_matched_by_name_or_by_same_inputs() -> None:
    # Same type and either the same name (re-parented) or the same inputs (renamed): one resource moved.
    reparented = reg(TOPIC_T, "alerts", parent="mlops:monitoring:Alerts", displayName="a")
    renamed = reg(TOPIC_T, "alarms", displayName="a")
    other = reg(TOPIC_T, "alarms", displayName="b")
    assert ([x.kind for x in diff_of([TOPIC], [reparented]).danger], [x.kind for x in diff_of([TOPIC], [renamed]).danger],
            [x.kind for x in diff_of([TOPIC], [other]).danger]) == (
        ["delete", "urn-change"], ["delete", "urn-change"], ["delete"])


def test_a_urn_change_message_names_both_urns_and_the_fix() -> None:
    (change,) = [x for x in diff_of([KEY], [KEY_RENAMED]).danger if x.kind == "urn-change"]
    assert change == Danger("urn-change", KEY_RENAMED.urn, KEY_T, "data-key",
                            f"URN changes without an alias: `{KEY.urn}` -> `{KEY_RENAMED.urn}`; Pulumi deletes it and creates it "
                            "again. Add `aliases=[...]` with the old URN if it is the same resource.")


def test_another_type_with_the_same_name_is_no_urn_change() -> None:
    assert [x.kind for x in diff_of([reg(TOPIC_T, "x")], [reg("aws:sqs/queue:Queue", "x")]).danger] == ["delete"]


def test_a_moved_protected_resource_that_is_replaced_is_a_protected_delete() -> None:
    base = reg(BUCKET_T, "data", protect=True, bucket="a")
    head = reg(BUCKET_T, "bucket", protect=True, bucket="b", aliases=(base.urn,))
    assert [x.kind for x in diff_of([base], [head]).danger] == ["protected-delete", "replacement"]


def test_danger_takes_the_old_resource_of_a_moved_one() -> None:
    base = reg(BUCKET_T, "data", acl="public-read")
    head = reg(BUCKET_T, "bucket", acl="public-read", aliases=(base.urn,))
    changes = compare_resources([base], [head])
    assert danger(changes, [base], [head]) == []
