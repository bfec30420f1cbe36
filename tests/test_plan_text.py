"""offline/plan_text.py: the resource tree, what a reviewer checks on each line, the outputs and the count."""

from __future__ import annotations

import json

from offline.engine import Recording
from offline.plan_text import render
from tests.registrations import reg
from tests.support import SCHEDULED, RunWith


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


def test_a_training_change_shows_in_the_plan(dev_scheduled: Recording, run_with: RunWith) -> None:
    train = {"schedule": "30 4 * * *", "gpus": 0, "data": "datasets/x.csv"}
    changed = run_with("dev", **{"mlops:projects": {"iris": {"train": train}}, **SCHEDULED})
    before, after = render("dev", dev_scheduled), render("dev", changed)
    assert "schedule=cron(0 3 * * ? *)" in before
    assert "schedule=cron(30 4 * * ? *)" in after
    job_line = next(line for line in after.splitlines() if "aws:batch/jobDefinition:JobDefinition" in line)
    assert f"--data s3://{changed.outputs['bucketName']}/datasets/x.csv" in job_line
    assert '"GPU"' in next(line for line in before.splitlines() if "aws:batch/jobDefinition:JobDefinition" in line)
    assert '"GPU"' not in job_line


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


# --- the tree and its markers, on hand-made resources --------------------

def test_the_tree_marks_protection_branches_details_and_counts() -> None:
    # PROTECTED and retain-on-delete are what a reviewer of prod looks for first; the count is the plan's total.
    component = reg("mlops:storage:DataBucket", "data", custom=False)
    bucket = reg("aws:s3/bucket:Bucket", "data", parent=component.urn, protect=True, retain=True, bucketPrefix="d-", forceDestroy=False)
    policy = reg("aws:s3/bucketPolicy:BucketPolicy", "data-policy", parent=component.urn,
                 policy=json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "b"}]}))
    topic = reg("aws:sns/topic:Topic", "alerts", name="alerts", tags={"a": "b"}, delay=3, doc='{"k": 1}')
    recording = Recording(resources=[component, bucket, policy, topic], outputs={"token": "t0ken", "url": "u"},
                          secret_outputs={"token"})
    assert render("s", recording).splitlines() == [
        "Stack mlops/s: the program run offline under the mock engine",
        "",
        "├─ mlops:storage:DataBucket  data",
        "│  ├─ aws:s3/bucket:Bucket  data  [PROTECTED, retain-on-delete]  bucketPrefix=d- forceDestroy=false",
        "│  └─ aws:s3/bucketPolicy:BucketPolicy  data-policy",
        "│          Deny s3:* by * on b",
        "└─ aws:sns/topic:Topic  alerts  delay=3 name=alerts",
        "        doc: {\"k\":1}",
        "",
        "Outputs:",
        "  token: [secret]",
        "  url: u",
        "",
        "3 resources to create:",
        "    1  aws:s3/bucket:Bucket",
        "    1  aws:s3/bucketPolicy:BucketPolicy",
        "    1  aws:sns/topic:Topic",
    ]


def test_a_parent_with_children_continues_its_branch_past_its_details() -> None:
    role = reg("aws:iam/role:Role", "role", name="r",
               assumeRolePolicy=json.dumps({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2"}}]}))
    child = reg("aws:iam/rolePolicy:RolePolicy", "p", parent=role.urn, role="r")
    assert render("s", Recording(resources=[role, child])).splitlines()[2:5] == [
        "└─ aws:iam/role:Role  role  name=r",
        "   │    Allow sts:AssumeRole by Service:ec2",
        "   └─ aws:iam/rolePolicy:RolePolicy  p  role=r",
    ]


def test_plan_names_what_each_registry_lifecycle_rule_keeps(dev: Recording) -> None:
    # A reviewer sees the retention in plain words, rule by rule, in the policy's order.
    from offline.plan_text import _describe

    lifecycle = dev.get("aws:ecr/lifecyclePolicy:LifecyclePolicy", "registry-train-lifecycle")
    assert _describe(lifecycle) == (
        "aws:ecr/lifecyclePolicy:LifecyclePolicy  registry-train-lifecycle  keep=Expire untagged images "
        "(superseded build caches) after a day, Keep only the current build cache, Keep the newest 10 releases"
    )


def test_plan_shows_each_artifact_registry_repositorys_cleanup_policies(prod: Recording) -> None:
    # Retention is what a reviewer checks on a registry; the plan names each policy by its id.
    from offline.plan_text import _describe

    assert [_describe(r) for r in prod.of_type("gcp:artifactregistry/repository:Repository")] == [
        "gcp:artifactregistry/repository:Repository  registry-cache  id=mlops-prod-cache immutableTags=false "
        'scanning=DISABLED cleanup=["delete-superseded-caches"]',
        "gcp:artifactregistry/repository:Repository  registry-images  [PROTECTED]  id=mlops-prod immutableTags=true "
        'scanning=INHERITED cleanup=["delete-releases", "delete-untagged", "keep-newest-releases"]',
    ]
