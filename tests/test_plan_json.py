"""offline/plan_json.py: `make plan --json`, the recording with its options and secrets redacted."""

from __future__ import annotations

import json

from offline.engine import Recording
from offline.plan_json import render_json, resource_json
from tests.registrations import reg


def test_plan_json_is_the_recording_with_secrets_redacted(dev: Recording) -> None:
    document = json.loads(render_json("dev", dev))
    image = next(r for r in document["resources"] if r["name"] == "images-train")
    assert image["inputs"]["registries"] == "[secret]"
    assert "mock-registry-token" not in render_json("dev", dev)
    bucket = next(r for r in document["resources"] if r["type"] == "aws:s3/bucket:Bucket")
    assert set(bucket) >= {"type", "name", "urn", "parent", "provider", "protect", "retainOnDelete", "inputs"}
    assert [r["urn"] for r in document["resources"]] == sorted(r["urn"] for r in document["resources"])


def test_resource_json_carries_the_options_a_reviewer_checks() -> None:
    bucket = reg("aws:s3/bucket:Bucket", "data", protect=True, retain=True, aliases=("urn:old",), bucket="b")
    assert resource_json(bucket) == {
        "type": "aws:s3/bucket:Bucket", "name": "data", "urn": bucket.urn, "custom": True, "parent": "", "provider": "",
        "protect": True, "retainOnDelete": True, "aliases": ["urn:old"], "inputs": {"bucket": "b"}}
