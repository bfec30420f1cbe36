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


# --- the tree, its markers and the placeholder list, on hand-made resources --------------------

from typing import Any  # noqa: E402

from offline.engine import Registration  # noqa: E402
from offline.plan import details, placeholders, render_placeholders, resource_json, statement_lines  # noqa: E402


def reg(type_: str, name: str, /, *, custom: bool = True, parent: str = "", protect: bool = False, retain: bool = False,
        **inputs: Any) -> Registration:
    return Registration(type=type_, name=name, urn=f"urn:pulumi:s::mlops::{type_}::{name}", id=name, inputs=inputs,
                        state=dict(inputs), parent=parent, provider="", protect=protect, retain_on_delete=retain,
                        delete_before_replace=False, custom=custom, aliases=("urn:old",))


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


STATEMENTS: dict[str, tuple[dict[str, Any], str]] = {
    "not-action": ({"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}, "Deny all but iam:*, sts:* on *"),
    "not-resource": ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": ["a", "b"]}, "Allow s3:GetObject on a, b"),
    "conditions-sorted": ({"Effect": "Allow", "Action": "kms:Decrypt", "Condition": {"StringLike": {"b": ["x", "y"], "a": "z"}, "Bool": {"c": "true"}}},
                          "Allow kms:Decrypt when Bool c=true and StringLike a=z and StringLike b=x,y"),
    "principals-sorted": ({"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Principal": {"Federated": "f", "AWS": ["1", "2"]}, "Sid": "S"},
                          "Allow sts:AssumeRoleWithWebIdentity by AWS:1,2 Federated:f  [S]"),
    "no-effect": ({"Action": "s3:*"}, "? s3:*"),
}


@pytest.mark.parametrize("case", STATEMENTS)
def test_a_policy_statement_is_one_readable_line(case: str) -> None:
    statement, line = STATEMENTS[case]
    assert statement_lines({"Statement": [statement, "not a statement"]}) == [line]


def test_security_group_rules_name_ports_peers_and_nobody() -> None:
    group = reg("aws:ec2/securityGroup:SecurityGroup", "sg", ingress=[
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/8"], "ipv6CidrBlocks": ["::/0"],
         "securityGroups": ["sg-1"], "prefixListIds": ["pl-1"], "self": True, "description": "https"},
        {"protocol": "udp", "fromPort": 1000, "toPort": 2000},
    ])
    assert details(group) == ["ingress tcp/443 from 10.0.0.0/8, ::/0, sg-1, pl-1, self  (https)",
                              "ingress udp/1000-2000 from (nobody)", "egress: none"]


def test_a_default_security_group_shows_its_rules_too() -> None:
    assert details(reg("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "d")) == ["ingress: none", "egress: none"]


def test_the_deployment_line_shows_its_rollout_probes_and_security() -> None:
    container = {"image": "img@sha256:1", "ports": [{"containerPort": 8080}],
                 "startupProbe": {"httpGet": {"path": "/s"}}, "readinessProbe": {"httpGet": {"path": "/r"}},
                 "livenessProbe": {"httpGet": {"path": "/l"}}, "resources": {"limits": {"cpu": "1"}},
                 "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                     "capabilities": {"drop": ["ALL"]}}}
    deployment = reg("kubernetes:apps/v1:Deployment", "d", metadata={"name": "m"}, spec={
        "strategy": {"rollingUpdate": {"maxUnavailable": 0}},
        "template": {"spec": {"containers": [container], "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                              "automountServiceAccountToken": False}}})
    line = render("s", Recording(resources=[deployment])).splitlines()[2]
    assert line == ('└─ kubernetes:apps/v1:Deployment  d  name=m replicas=(HPA) maxUnavailable=0 image=img@sha256:1 ports=[8080] '
                    'probes={"startup": "/s", "readiness": "/r", "liveness": "/l"} limits={"cpu": "1"} runAsNonRoot=true '
                    'readOnlyRoot=true privilegeEscalation=false capsDropped=["ALL"] seccomp=RuntimeDefault tokenMounted=false')


def test_a_node_pool_line_shows_machine_gpu_nodes_spot_and_taints() -> None:
    pool = reg("gcp:container/nodePool:NodePool", "gpu", autoscaling={"totalMinNodeCount": 0, "totalMaxNodeCount": 2},
               nodeConfig={"machineType": "g2-standard-4", "spot": True, "guestAccelerators": [{"type": "nvidia-l4"}],
                           "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]})
    assert render("s", Recording(resources=[pool])).splitlines()[2] == (
        '└─ gcp:container/nodePool:NodePool  gpu  machine=g2-standard-4 gpu=nvidia-l4 nodes=0..2 spot=true '
        'taints=["nvidia.com/gpu=present:NO_SCHEDULE"]')


def test_a_kubernetes_provider_without_a_context_says_it_uses_the_current_one() -> None:
    assert render("s", Recording(resources=[reg("pulumi:providers:kubernetes", "k8s")])).splitlines()[2] == (
        "└─ pulumi:providers:kubernetes  k8s  context=(current kubeconfig context)")


def test_a_namespace_line_shows_its_pod_security_level() -> None:
    namespace = reg("kubernetes:core/v1:Namespace", "ns", metadata={"name": "mlops", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}})
    assert render("s", Recording(resources=[namespace])).splitlines()[2] == (
        "└─ kubernetes:core/v1:Namespace  ns  name=mlops podSecurity=restricted")


def test_each_placeholder_is_named_by_its_key_path() -> None:
    # Keys in the order the stack file writes them, stacks' top-level keys sorted; a non-JSON value is a plain string.
    config = {"mlops:gke": json.dumps({"project": "mlops-prod-123456", "nets": [{"cidr": "203.0.113.0/24"}]}),
              "mlops:plain": "192.0.2.1", "mlops:broken": "{not json", "mlops:fine": "35.1.2.3"}
    assert placeholders(config) == [
        "  mlops:gke.project: mlops-prod-123456  (the sample project id: use your Google Cloud project's id)",
        "  mlops:gke.nets[0].cidr: 203.0.113.0/24  (a documentation range (RFC 5737) that no real network uses: use your own CIDRs)",
        "  mlops:plain: 192.0.2.1  (a documentation range (RFC 5737) that no real network uses: use your own CIDRs)",
    ]
    assert render_placeholders(config).splitlines()[:3] == ["", "", "Still to replace before a real deploy:"]
    assert render_placeholders({"mlops:fine": "35.1.2.3"}) == ""


def test_resource_json_carries_the_options_a_reviewer_checks() -> None:
    bucket = reg("aws:s3/bucket:Bucket", "data", protect=True, retain=True, bucket="b")
    assert resource_json(bucket) == {
        "type": "aws:s3/bucket:Bucket", "name": "data", "urn": bucket.urn, "custom": True, "parent": "", "provider": "",
        "protect": True, "retainOnDelete": True, "aliases": ["urn:old"], "inputs": {"bucket": "b"}}


# --- every reviewed setting is on its resource's line ------------------------------------------
#
# Per type, the settings `make plan` shows for the stack files (dev, prod, prod on AWS, dev with
# cluster training). A setting read from a wrong path is None and silently left off the line:
# the reviewer would not see that a bucket is force-destroyed or a pod may escalate.

SHOWN: dict[str, list[str]] = {
    'pulumi:providers:kubernetes': ['context'],
    'pulumi:providers:aws': ['region', 'defaultTags'],
    'aws:kms/key:Key': ['rotation', 'deletionWindowDays'],
    'aws:ec2/launchTemplate:LaunchTemplate': ['imdsTokens', 'imdsHopLimit', 'rootVolume', 'rootEncrypted'],
    'aws:cloudwatch/logGroup:LogGroup': ['name', 'retentionDays'],
    'kubernetes:core/v1:Namespace': ['name', 'podSecurity'],
    'aws:iam/role:Role': ['name'],
    'aws:s3/bucket:Bucket': ['bucketPrefix', 'forceDestroy'],
    'aws:ec2/vpc:Vpc': ['cidr', 'dnsHostnames'],
    'aws:iam/user:User': ['name', 'path'],
    'aws:ecr/repository:Repository': ['name', 'tags', 'scanOnPush', 'encryption'],
    'aws:iam/instanceProfile:InstanceProfile': ['role'],
    'aws:iam/rolePolicyAttachment:RolePolicyAttachment': ['role', 'policy'],
    'kubernetes:core/v1:ServiceAccount': ['name', 'tokenMounted'],
    'kubernetes:networking.k8s.io/v1:NetworkPolicy': ['name', 'types', 'ports'],
    'kubernetes:core/v1:Service': ['type', 'ports'],
    'aws:kms/alias:Alias': ['name'],
    'aws:s3/bucketOwnershipControls:BucketOwnershipControls': ['ownership'],
    'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock': ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'],
    'aws:s3/bucketVersioning:BucketVersioning': ['status'],
    'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration': ['sse', 'bucketKey'],
    'aws:ec2/defaultSecurityGroup:DefaultSecurityGroup': [],
    'aws:ec2/internetGateway:InternetGateway': [],
    'aws:ec2/routeTable:RouteTable': [],
    'aws:ec2/securityGroup:SecurityGroup': ['description'],
    'aws:ec2/subnet:Subnet': ['cidr', 'zone', 'publicIpOnLaunch'],
    'aws:iam/userPolicy:UserPolicy': ['user'],
    'aws:ecr/lifecyclePolicy:LifecyclePolicy': ['keep'],
    'docker-build:index:Image': ['tags', 'platforms', 'push'],
    'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration': ['abort-incomplete-multipart-uploads', 'expire-noncurrent-versions', 'archive-to-glacier-ir'],
    'aws:ec2/route:Route': ['destination', 'via'],
    'aws:ec2/routeTableAssociation:RouteTableAssociation': ['subnet', 'routeTable'],
    'aws:ec2/vpcEndpoint:VpcEndpoint': ['service', 'type'],
    'aws:batch/computeEnvironment:ComputeEnvironment': ['namePrefix', 'market', 'instanceTypes', 'allocation', 'minvCpus', 'maxvCpus', 'ami'],
    'aws:iam/rolePolicy:RolePolicy': ['role'],
    'kubernetes:core/v1:Secret': ['name', 'type'],
    'aws:s3/bucketPolicy:BucketPolicy': [],
    'aws:batch/jobQueue:JobQueue': ['name', 'cancelRunnable'],
    'aws:batch/jobDefinition:JobDefinition': ['name', 'command', 'requires', 'timeoutSeconds', 'attempts', 'retryOn', 'readOnlyRoot'],
    'kubernetes:batch/v1:CronJob': ['schedule', 'timeZone', 'concurrency', 'backoffLimit', 'deadlineSeconds', 'image', 'limits', 'runAsNonRoot', 'readOnlyRoot', 'privilegeEscalation', 'capsDropped', 'seccomp', 'tokenMounted'],
    'kubernetes:apps/v1:Deployment': ['name', 'replicas', 'maxUnavailable', 'image', 'ports', 'probes', 'limits', 'runAsNonRoot', 'readOnlyRoot', 'privilegeEscalation', 'capsDropped', 'seccomp', 'tokenMounted'],
    'aws:scheduler/schedule:Schedule': ['schedule', 'timezone', 'window', 'target'],
    'kubernetes:autoscaling/v2:HorizontalPodAutoscaler': ['replicas', 'cpuTarget', 'scaleDownWindow'],
    'gcp:artifactregistry/repository:Repository': ['id', 'immutableTags', 'scanning', 'cleanup'],
    'aws:s3/bucketLogging:BucketLogging': ['targetPrefix'],
    'gcp:projects/iAMMember:IAMMember': ['role'],
    'gcp:container/cluster:Cluster': ['location', 'privateNodes', 'authorizedNetworks', 'channel', 'datapath', 'workloadPool', 'deletionProtection'],
    'gcp:artifactregistry/repositoryIamMember:RepositoryIamMember': ['role'],
    'gcp:compute/routerNat:RouterNat': ['ranges'],
    'gcp:container/nodePool:NodePool': ['machine', 'nodes', 'spot', 'gpu', 'taints'],
    'aws:s3/bucketReplicationConfig:BucketReplicationConfig': ['rule', 'deleteMarkers', 'kmsObjects'],
    'aws:iam/openIdConnectProvider:OpenIdConnectProvider': ['url', 'audiences'],
    'kubernetes:policy/v1:PodDisruptionBudget': ['maxUnavailable'],
    'aws:ec2/eip:Eip': ['domain'],
    'aws:ec2/natGateway:NatGateway': ['subnet', 'eip'],
}


@pytest.fixture(scope="module")
def stack_files(dev: Recording, prod: Recording, prod_on_aws: Recording, dev_cluster_training: Recording) -> list[Recording]:
    return [dev, prod, prod_on_aws, dev_cluster_training]


def test_every_type_with_its_own_line_is_in_the_table() -> None:
    from offline.plan import SETTINGS

    assert set(SHOWN) == set(SETTINGS)


@pytest.mark.parametrize("type_", SHOWN)
def test_each_reviewed_setting_is_shown_for_its_type(type_: str, stack_files: list[Recording]) -> None:
    from offline.plan import SETTINGS
    from offline.values import redact

    shown: list[str] = []
    for recording in stack_files:
        for resource in recording.of_type(type_):
            shown += [k for k, v in SETTINGS[type_](redact(resource.inputs)).items() if v is not None and k not in shown]
    assert shown == SHOWN[type_]


def test_plan_names_what_each_registry_lifecycle_rule_keeps(dev: Recording) -> None:
    # A reviewer sees the retention in plain words, rule by rule, in the policy's order.
    from offline.plan import _describe

    lifecycle = dev.get("aws:ecr/lifecyclePolicy:LifecyclePolicy", "registry-train-lifecycle")
    assert _describe(lifecycle) == (
        "aws:ecr/lifecyclePolicy:LifecyclePolicy  registry-train-lifecycle  keep=Expire untagged images "
        "(superseded build caches) after a day, Keep only the current build cache, Keep the newest 10 releases"
    )


def test_plan_shows_each_artifact_registry_repositorys_cleanup_policies(prod: Recording) -> None:
    # Retention is what a reviewer checks on a registry; the plan names each policy by its id.
    from offline.plan import _describe

    assert [_describe(r) for r in prod.of_type("gcp:artifactregistry/repository:Repository")] == [
        "gcp:artifactregistry/repository:Repository  registry-cache  id=mlops-prod-cache immutableTags=false "
        'scanning=DISABLED cleanup=["delete-superseded-caches"]',
        "gcp:artifactregistry/repository:Repository  registry-images  [PROTECTED]  id=mlops-prod immutableTags=true "
        'scanning=INHERITED cleanup=["delete-releases", "delete-untagged", "keep-newest-releases"]',
    ]
