"""`make plan`: what a reviewer checks is on the page, the same bytes every run."""

from __future__ import annotations

import json

import pytest

from offline.engine import Recording
from offline.plan import main as plan_main
from offline.plan import render, render_json
from tests.support import RunWith


def test_plan_is_byte_stable_from_run_to_run(capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    for _ in range(2):
        assert plan_main(["--stack", "prod"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]


def test_plan_shows_iam_statements_one_per_line(dev: Recording) -> None:
    printed = render("dev", dev)
    assert "Allow sts:AssumeRole by Service:ec2.amazonaws.com" in printed
    assert f"Allow s3:PutObject on {dev.outputs['bucketArn']}/models/iris/*  [WriteModels]" in printed
    assert "when StringEquals kms:ViaService=s3.us-east-1.amazonaws.com  [UseBucketKeyThroughS3]" in printed


def test_plan_shows_cidrs_zones_and_security_group_rules(dev: Recording) -> None:
    printed = render("dev", dev)
    assert "aws:ec2/vpc:Vpc  training-net-vpc  cidr=10.40.0.0/16" in printed
    assert "cidr=10.40.0.0/18 zone=us-east-1a publicIpOnLaunch=true" in printed
    assert "egress tcp/443 to 0.0.0.0/0" in printed
    assert "ingress: none" in printed


def test_a_training_change_shows_in_the_plan(dev: Recording, run_with: RunWith) -> None:
    changed = run_with("dev", **{"mlops:training": {"schedule": "30 4 * * *", "gpus": 0, "data": "datasets/x.csv"}})
    before, after = render("dev", dev), render("dev", changed)
    assert "schedule=cron(0 3 * * ? *)" in before
    assert "schedule=cron(30 4 * * ? *)" in after
    job_line = next(line for line in after.splitlines() if "aws:batch/jobDefinition:JobDefinition" in line)
    assert f"--data s3://{changed.outputs['bucketName']}/datasets/x.csv" in job_line
    assert '"GPU"' in next(line for line in before.splitlines() if "aws:batch/jobDefinition:JobDefinition" in line)
    assert '"GPU"' not in job_line


def test_plan_json_is_the_recording_with_secrets_redacted(dev: Recording) -> None:
    document = json.loads(render_json("dev", dev))
    image = next(r for r in document["resources"] if r["name"] == "images-train")
    assert image["inputs"]["registries"] == "[secret]"
    assert "mock-registry-token" not in render_json("dev", dev)
    bucket = next(r for r in document["resources"] if r["type"] == "aws:s3/bucket:Bucket")
    assert set(bucket) >= {"type", "name", "urn", "parent", "provider", "protect", "retainOnDelete", "inputs"}
    assert [r["urn"] for r in document["resources"]] == sorted(r["urn"] for r in document["resources"])


def test_plan_graph_is_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_main(["--stack", "dev", "--graph"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("graph LR\n")
    assert "s3.Bucket<br/>data" in printed


def test_graph_is_capped_and_stable(prod: Recording) -> None:
    from offline.graph import mermaid

    drawn = mermaid(prod.resources, cap=5)
    assert drawn == mermaid(list(reversed(prod.resources)), cap=5)
    assert len([line for line in drawn.splitlines() if line.strip().startswith("n") and "[" in line]) == 5
    assert f"+{len(prod.resources) - 5} more not drawn (cap 5)" in drawn


def test_a_kms_key_policy_and_an_unknown_type_render_readably(dev: Recording) -> None:
    import dataclasses

    key = dev.get("aws:kms/key:Key", "data-key")
    policy = json.dumps({"Statement": [{"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                        "Action": "kms:*", "Resource": "*"}]})
    with_policy = dataclasses.replace(key, inputs={**key.inputs, "policy": policy})
    queue = dataclasses.replace(key, type="aws:sqs/queue:Queue", name="jobs", urn=key.urn + "-jobs",
                                inputs={"name": "jobs", "redrivePolicy": json.dumps({"maxReceiveCount": 3})})
    printed = render("dev", Recording(resources=[with_policy, queue]))
    assert "Allow kms:* by AWS:arn:aws:iam::123456789012:root on *  [Admins]" in printed
    assert "aws:sqs/queue:Queue  jobs  name=jobs" in printed
    assert 'redrivePolicy: {"maxReceiveCount":3}' in printed


def test_plan_names_each_placeholder_still_in_prod(capsys: pytest.CaptureFixture[str]) -> None:
    # A deploy with the sample project fails at Google's API, and one with a documentation range
    # builds a control plane that nobody's machine can reach: make plan says so before that.
    assert plan_main(["--stack", "prod"]) == 0
    out = capsys.readouterr().out
    block = out.split("Still to replace before a real deploy:\n", 1)[1].splitlines()
    assert block == [
        "  mlops:gke.project: mlops-prod-123456  (the sample project id: use your Google Cloud project's id)",
        "  mlops:gke.authorizedNetworks[0]: 203.0.113.0/24  (a documentation range (RFC 5737) that no real network uses: use your own CIDRs)",
    ]


def test_plan_lists_no_placeholder_for_dev(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_main(["--stack", "dev"]) == 0
    assert "Still to replace" not in capsys.readouterr().out


def test_placeholders_are_found_inside_every_documentation_range() -> None:
    from offline.engine import stack_config_with
    from offline.plan import placeholders

    config = stack_config_with("prod", {"mlops:gke": {
        "project": "acme-ml-prod", "authorizedNetworks": ["35.1.2.0/24", "198.51.100.7/32", "192.0.2.0/25"]}})
    assert [line.split("  (")[0] for line in placeholders(config)] == [
        "  mlops:gke.authorizedNetworks[1]: 198.51.100.7/32",
        "  mlops:gke.authorizedNetworks[2]: 192.0.2.0/25",
    ]
