"""offline/review_json.py: report.json, what the CI job and the labels read."""

from __future__ import annotations

import json

from offline.engine import Recording
from offline.review import build_report
from tests.review_support import BASE, BUCKET_T, KEY_T, TOPIC_T, every_kind_report, prod_as_dev, side


def test_report_json_shape(prod: Recording, prod_as_dev: Recording) -> None:
    _, document, _ = build_report({"prod": side(prod, "prod")}, {"prod": side(prod_as_dev, "dev")}, BASE)
    report = json.loads(document)
    assert set(report) >= {"base", "labels", "stacks", "honesty", "priceTable", "estimate"}
    stack = report["stacks"]["prod"]
    assert set(stack) >= {"counts", "danger", "changes", "cost", "policy", "status", "graph"}
    assert set(stack["counts"]) == {"create", "update", "replace", "delete"}
    assert set(stack["cost"]) >= {"baseIdleMonthlyUsd", "headIdleMonthlyUsd", "deltaMonthlyUsd", "resources", "unpricedTypes"}
    assert stack["graph"].startswith("graph LR")
    assert "prod-delete" in report["labels"]


def test_report_json_carries_counts_cost_rows_and_policy_exactly() -> None:
    # The CI job and the labels read report.json; the cost rows name what changes the bill.
    _, report = every_kind_report()
    prod = report["stacks"]["prod"]
    assert (prod["status"], prod["errors"], prod["counts"]) == ("ok", {}, {"create": 2, "update": 1, "replace": 1, "delete": 3})
    urn = "urn:pulumi:s::mlops::{}".format
    assert prod["cost"] == {
        "baseIdleMonthlyUsd": 33.85, "headIdleMonthlyUsd": 1.0, "deltaMonthlyUsd": -32.85,
        "resources": [
            {"urn": urn("aws:ec2/natGateway:NatGateway::nat"), "type": "aws:ec2/natGateway:NatGateway", "name": "nat",
             "baseMonthlyUsd": 32.85, "headMonthlyUsd": None, "deltaMonthlyUsd": -32.85},
            {"urn": urn("aws:kms/key:Key::key"), "type": KEY_T, "name": "key", "baseMonthlyUsd": 1.0, "headMonthlyUsd": None,
             "deltaMonthlyUsd": -1.0},
            {"urn": urn("aws:kms/key:Key::key2"), "type": KEY_T, "name": "key2", "baseMonthlyUsd": None, "headMonthlyUsd": 1.0,
             "deltaMonthlyUsd": 1.0},
            {"urn": urn("aws:sns/platformApplication:PlatformApplication::gone"), "type": TOPIC_T, "name": "gone", "baseMonthlyUsd": None, "headMonthlyUsd": None,
             "deltaMonthlyUsd": None},
            {"urn": urn("aws:sqs/queuePolicy:QueuePolicy::q"), "type": "aws:sqs/queuePolicy:QueuePolicy", "name": "q", "baseMonthlyUsd": None,
             "headMonthlyUsd": None, "deltaMonthlyUsd": None},
        ],
        "unpricedTypes": ["aws:sns/platformApplication:PlatformApplication", "aws:sqs/queuePolicy:QueuePolicy"],
        "trainingRun": [], "baseTrainingRun": [], "crossCloudEgress": None,
    }
    assert prod["policy"] == [
        {"rule": "s3-bucket-key", "severity": "advisory", "urn": "urn:x::sse", "message": "no key"},
        {"rule": "s3-tls-only", "severity": "mandatory", "urn": "urn:x::data-policy", "message": "no tls"},
    ]
    assert report["labels"] == ["policy-violation", "prod-delete", "protection-change", "replacement"]
    (bucket,) = [c for c in prod["changes"] if c["name"] == "data"]
    assert bucket == {"urn": urn("aws:s3/bucket:Bucket::data"), "type": BUCKET_T, "name": "data", "action": "replace",
                      "protected": True, "properties": [{"path": "bucket", "old": "a", "new": "b", "forcesReplacement": True}],
                      "replaceReasons": ["`bucket` changes, which the provider cannot update in place"],
                      "optionChanges": ["protect: true -> false"]}
