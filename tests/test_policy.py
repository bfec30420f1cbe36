"""The policy rules: each rule on a compliant and a non-compliant input, then on the real stacks.

The rules are plain functions (policy/rules.py), so they run here without the Pulumi CLI;
the CrossGuard pack (policy/__main__.py) is only checked for wiring, never built, because
building a PolicyPack starts a server and blocks.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from offline.engine import ROOT, Recording, Registration
from policy.rules import (
    RULES, RULES_BY_NAME, Resource, ResourceRule, ResourceView, StackRule, Violation, evaluate, mandatory,
)

SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
KEY = "aws:kms/key:Key"
REPO = "aws:ecr/repository:Repository"
INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SUBNET = "aws:ec2/subnet:Subnet"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CRONJOB = "kubernetes:batch/v1:CronJob"

DIGEST = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/serve@sha256:" + "a" * 64
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def violations_of(rule: str, type_: str, inputs: Mapping[str, Any], *, environment: str = "dev") -> list[Violation]:
    """What one rule says about one resource with these inputs."""
    resource = Resource(type=type_, name="r", urn=f"urn:pulumi:dev::mlops::{type_}::r", inputs=inputs)
    return [v for v in evaluate([resource], environment=environment) if v.rule == rule]


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any, sid: str = "S") -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}


def ingress(**rule: Any) -> dict[str, Any]:
    return {"ingress": [{"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, **rule}]}


def pod(*, container: Mapping[str, Any] | None = None, pod_security: Mapping[str, Any] | None = None,
        **spec: Any) -> dict[str, Any]:
    """A Deployment's inputs with one hardened container; override parts to break one property."""
    hardened = {
        "name": "server",
        "image": DIGEST,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "512Mi"}},
    }
    security = {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
    return {
        "spec": {
            "template": {
                "spec": {
                    "securityContext": {**security, **(pod_security or {})},
                    "containers": [{**hardened, **(container or {})}],
                    **spec,
                }
            }
        }
    }


def container_security(**changes: Any) -> dict[str, Any]:
    return {
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            **changes,
        }
    }


# (rule, resource type, inputs) that the rule accepts, and that it rejects. Every rule
# appears in both tables (checked below).
CLUSTER = "gcp:container/cluster:Cluster"
GOOD_CLUSTER: dict[str, Any] = {
    "privateClusterConfig": {"enablePrivateNodes": True},
    "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "203.0.113.0/24"}]},
    "workloadIdentityConfig": {"workloadPool": "p.svc.id.goog"},
    "datapathProvider": "ADVANCED_DATAPATH",
    "enableShieldedNodes": True,
    "deletionProtection": True,
}


ACCEPTED: dict[str, tuple[str, str, Mapping[str, Any]]] = {
    "sse-kms": ("s3-encryption", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}, "bucketKeyEnabled": True}]}),
    "sse-s3": ("s3-encryption", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}),
    "bucket-key-with-kms": ("s3-bucket-key", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}, "bucketKeyEnabled": True}]}),
    "all-four-public-access-flags": ("s3-public-access-block", PAB, {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}),
    "deny-without-tls": ("s3-tls-only", POLICY, {"policy": document(TLS_ONLY)}),
    "policy-grants-a-service-with-condition": ("s3-no-public-policy", POLICY, {"policy": document(TLS_ONLY, {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"})}),
    "owner-enforced": ("s3-ownership-enforced", OWNERSHIP, {"rule": {"objectOwnership": "BucketOwnerEnforced"}}),
    "no-acl": ("s3-no-public-acl", BUCKET, {"bucketPrefix": "b-"}),
    "versioning-enabled": ("s3-versioning", VERSIONING, {"versioningConfiguration": {"status": "Enabled"}}),
    "immutable-tags": ("ecr-immutable-tags", REPO, {"imageTagMutability": "IMMUTABLE"}),
    "immutable-tags-with-cache-exclusion": ("ecr-immutable-tags", REPO, {"imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"}),
    "scan-on-push": ("ecr-scan-on-push", REPO, {"imageScanningConfiguration": {"scanOnPush": True}}),
    "rotated-key": ("kms-key-rotation", KEY, {"enableKeyRotation": True}),
    "asymmetric-key-without-rotation": ("kms-key-rotation", KEY, {"keySpec": "RSA_2048"}),
    "instance-imdsv2": ("ec2-imdsv2", INSTANCE, {"metadataOptions": {"httpTokens": "required"}}),
    "launch-template-imdsv2": ("ec2-imdsv2", LAUNCH_TEMPLATE, {"metadataOptions": {"httpTokens": "required"}}),
    "instance-private": ("ec2-instance-no-public-ip", INSTANCE, {"associatePublicIpAddress": False}),
    "subnet-private": ("ec2-no-public-ip-on-launch", SUBNET, {"mapPublicIpOnLaunch": False}),
    "instance-root-encrypted": ("ec2-encrypted-volumes", INSTANCE, {"ami": "ami-1", "rootBlockDevice": {"encrypted": True}}),
    "launch-template-ebs-encrypted": ("ec2-encrypted-volumes", LAUNCH_TEMPLATE, {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}]}),
    "ingress-from-vpc": ("ec2-no-internet-ingress", SG, ingress(cidrBlocks=["10.0.0.0/16"])),
    "no-ingress": ("ec2-no-internet-ingress", SG, {"ingress": []}),
    "https-ingress": ("ec2-no-ssh-ingress", SG, ingress(cidrBlocks=["10.0.0.0/16"])),
    "named-actions": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document(allow(["s3:GetObject"], "arn:aws:s3:::b/*"))}),
    "deny-with-wildcard-action": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document(TLS_ONLY)}),
    "scoped-resource": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow("s3:GetObject", "arn:aws:s3:::b/*"))}),
    "registry-login-on-star": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow("ecr:GetAuthorizationToken", "*"))}),
    "scoped-managed-policy": ("iam-no-admin-policy", ATTACHMENT, {"policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}),
    "non-root": ("k8s-run-as-non-root", DEPLOYMENT, pod()),
    "no-escalation": ("k8s-no-privilege-escalation", DEPLOYMENT, pod()),
    "read-only-root": ("k8s-read-only-root-filesystem", DEPLOYMENT, pod()),
    "drops-all": ("k8s-drop-all-capabilities", DEPLOYMENT, pod()),
    "runtime-default-seccomp": ("k8s-seccomp-runtime-default", DEPLOYMENT, pod()),
    "limits": ("k8s-resource-limits", DEPLOYMENT, pod()),
    "digest": ("k8s-image-digest", DEPLOYMENT, pod()),
    "unprivileged": ("k8s-no-privileged-or-host", DEPLOYMENT, pod()),
    "cronjob-hardened": ("k8s-run-as-non-root", CRONJOB, {"spec": {"jobTemplate": pod()}}),
    "gke-private-nodes": ("gke-private-nodes", CLUSTER, GOOD_CLUSTER),
    "gke-authorized-networks": ("gke-control-plane-not-open", CLUSTER, GOOD_CLUSTER),
    "gke-workload-identity": ("gke-workload-identity", CLUSTER, GOOD_CLUSTER),
    "gke-dataplane-v2": ("gke-network-policy-enforced", CLUSTER, GOOD_CLUSTER),
    "gke-shielded": ("gke-shielded-nodes", CLUSTER, GOOD_CLUSTER),
    "gke-protected": ("gke-prod-deletion-protection", CLUSTER, GOOD_CLUSTER),
}

REJECTED: dict[str, tuple[str, str, Mapping[str, Any]]] = {
    "no-encryption-rule": ("s3-encryption", SSE, {"rules": []}),
    "unknown-algorithm": ("s3-encryption", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "none"}}]}),
    "kms-without-bucket-key": ("s3-bucket-key", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]}),
    "one-public-access-flag-off": ("s3-public-access-block", PAB, {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": False}),
    "no-tls-statement": ("s3-tls-only", POLICY, {"policy": document(allow("s3:GetObject", "arn:aws:s3:::b/*"))}),
    "tls-statement-for-one-principal": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Principal": {"AWS": "arn:aws:iam::1:root"}})}),
    "public-read-policy": ("s3-no-public-policy", POLICY, {"policy": document({"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})}),
    "acls-enabled": ("s3-ownership-enforced", OWNERSHIP, {"rule": {"objectOwnership": "ObjectWriter"}}),
    "public-read-acl": ("s3-no-public-acl", BUCKET, {"acl": "public-read"}),
    "versioning-suspended": ("s3-versioning", VERSIONING, {"versioningConfiguration": {"status": "Suspended"}}),
    "mutable-tags": ("ecr-immutable-tags", REPO, {"imageTagMutability": "MUTABLE"}),
    "default-mutability": ("ecr-immutable-tags", REPO, {}),
    "no-scan": ("ecr-scan-on-push", REPO, {"imageScanningConfiguration": {"scanOnPush": False}}),
    "no-rotation": ("kms-key-rotation", KEY, {"enableKeyRotation": False}),
    "instance-imdsv1": ("ec2-imdsv2", INSTANCE, {"metadataOptions": {"httpTokens": "optional"}}),
    "launch-template-without-metadata-options": ("ec2-imdsv2", LAUNCH_TEMPLATE, {}),
    "instance-public-ip": ("ec2-instance-no-public-ip", INSTANCE, {"associatePublicIpAddress": True}),
    "subnet-public-ip": ("ec2-no-public-ip-on-launch", SUBNET, {"mapPublicIpOnLaunch": True}),
    "launch-template-public-ip": ("ec2-no-public-ip-on-launch", LAUNCH_TEMPLATE, {"networkInterfaces": [{"associatePublicIpAddress": "true"}]}),
    "instance-root-unencrypted": ("ec2-encrypted-volumes", INSTANCE, {"ami": "ami-1", "rootBlockDevice": {"encrypted": False}}),
    "launch-template-ebs-unencrypted": ("ec2-encrypted-volumes", LAUNCH_TEMPLATE, {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 100}}]}),
    "ingress-from-anywhere": ("ec2-no-internet-ingress", SG, ingress(cidrBlocks=["0.0.0.0/0"])),
    "ipv6-ingress-from-anywhere": ("ec2-no-internet-ingress", SG, ingress(ipv6CidrBlocks=["::/0"])),
    "rule-ingress-from-anywhere": ("ec2-no-internet-ingress", SG_RULE, {"type": "ingress", "protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}),
    "vpc-ingress-rule-from-anywhere": ("ec2-no-internet-ingress", INGRESS_RULE, {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"}),
    "ssh-from-vpc": ("ec2-no-ssh-ingress", SG, ingress(fromPort=22.0, toPort=22.0, cidrBlocks=["10.0.0.0/16"])),
    "all-ports-from-vpc": ("ec2-no-ssh-ingress", SG, ingress(protocol="-1", fromPort=0.0, toPort=0.0, cidrBlocks=["10.0.0.0/16"])),
    "star-action": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document(allow("*", "arn:aws:s3:::b"))}),
    "service-star-action": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document(allow("s3:*", "arn:aws:s3:::b"))}),
    "inline-role-policy-star-action": ("iam-no-wildcard-action", ROLE, {"inlinePolicies": [{"name": "p", "policy": document(allow("*", "arn:aws:s3:::b"))}]}),
    "star-resource": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow("s3:GetObject", "*"))}),
    "registry-login-with-pull-on-star": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "*"))}),
    "administrator-access": ("iam-no-admin-policy", ATTACHMENT, {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    "root-user": ("k8s-run-as-non-root", DEPLOYMENT, pod(pod_security={"runAsNonRoot": False})),
    "container-overrides-non-root": ("k8s-run-as-non-root", DEPLOYMENT, pod(container=container_security(runAsNonRoot=False))),
    "escalation-allowed": ("k8s-no-privilege-escalation", DEPLOYMENT, pod(container=container_security(allowPrivilegeEscalation=True))),
    "writable-root": ("k8s-read-only-root-filesystem", DEPLOYMENT, pod(container=container_security(readOnlyRootFilesystem=False))),
    "keeps-capabilities": ("k8s-drop-all-capabilities", DEPLOYMENT, pod(container=container_security(capabilities={"drop": ["NET_RAW"]}))),
    "unconfined-seccomp": ("k8s-seccomp-runtime-default", DEPLOYMENT, pod(pod_security={"seccompProfile": {"type": "Unconfined"}})),
    "no-memory-limit": ("k8s-resource-limits", DEPLOYMENT, pod(container={"resources": {"limits": {"cpu": "1"}}})),
    "tag-not-digest": ("k8s-image-digest", DEPLOYMENT, pod(container={"image": "registry/serve:latest"})),
    "host-network": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(hostNetwork=True)),
    "privileged-container": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(container=container_security(privileged=True))),
    "cronjob-root": ("k8s-run-as-non-root", CRONJOB, {"spec": {"jobTemplate": pod(pod_security={"runAsNonRoot": False})}}),
    "gke-public-nodes": ("gke-private-nodes", CLUSTER, {**GOOD_CLUSTER, "privateClusterConfig": {"enablePrivateNodes": False}}),
    "gke-open-control-plane": ("gke-control-plane-not-open", CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]}}),
    "gke-no-authorized-networks": ("gke-control-plane-not-open", CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": None}),
    "gke-no-workload-identity": ("gke-workload-identity", CLUSTER, {**GOOD_CLUSTER, "workloadIdentityConfig": None}),
    "gke-legacy-dataplane": ("gke-network-policy-enforced", CLUSTER, {**GOOD_CLUSTER, "datapathProvider": "LEGACY_DATAPATH"}),
    "gke-unshielded": ("gke-shielded-nodes", CLUSTER, {**GOOD_CLUSTER, "enableShieldedNodes": False}),
    "gke-prod-unprotected": ("gke-prod-deletion-protection", CLUSTER, {**GOOD_CLUSTER, "deletionProtection": False}),
}
# Cases whose rule applies in prod only, run with that environment.
PROD_ONLY_CASES = {"gke-prod-unprotected": "prod"}


@pytest.mark.parametrize("case", ACCEPTED)
def test_rule_accepts_compliant_input(case: str) -> None:
    rule, type_, inputs = ACCEPTED[case]
    assert violations_of(rule, type_, inputs) == []


@pytest.mark.parametrize("case", REJECTED)
def test_rule_rejects_noncompliant_input(case: str) -> None:
    rule, type_, inputs = REJECTED[case]
    found = violations_of(rule, type_, inputs, environment=PROD_ONLY_CASES.get(case, "dev"))
    assert len(found) == 1 and found[0].message


def test_every_resource_rule_has_an_accepted_and_a_rejected_case() -> None:
    resource_rules = {rule.name for rule in RULES if isinstance(rule, ResourceRule)}
    assert resource_rules <= {rule for rule, _, _ in ACCEPTED.values()}
    assert resource_rules <= {rule for rule, _, _ in REJECTED.values()}


def test_rule_names_are_unique() -> None:
    assert len(RULES_BY_NAME) == len(RULES)


def test_only_the_public_ip_on_launch_bucket_key_and_dev_endpoint_rules_are_advisory() -> None:
    # Dev Batch jobs may run in public subnets (no NAT); the no-ingress rule is what guards them.
    # A public dev endpoint is reported, not blocked: prod's rule is the mandatory one.
    advisory = {rule.name for rule in RULES if rule.severity == "advisory"}
    assert advisory == {"ec2-no-public-ip-on-launch", "s3-bucket-key", "public-endpoint-authenticated"}


# --- stack rules -------------------------------------------------------------------------


def bucket_with_guards(*, skip: str = "", protect: bool = True, force_destroy: bool = False) -> list[Resource]:
    """A bucket, its KMS key and its five settings, linked by value as the mock engine records them."""
    key = Resource(KEY, "key", "urn:key", {"enableKeyRotation": True}, protect=protect)
    bucket = Resource(BUCKET, "data", "urn:bucket", {"bucket": "data-1", "forceDestroy": force_destroy}, protect=protect)
    settings = {
        PAB: {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True},
        SSE: {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "urn:key"}}]},
        OWNERSHIP: {"rule": {"objectOwnership": "BucketOwnerEnforced"}},
        POLICY: {"policy": document(TLS_ONLY)},
        VERSIONING: {"versioningConfiguration": {"status": "Enabled"}},
    }
    linked = [
        Resource(type_, f"data-{type_}", f"urn:{type_}", {"bucket": "data-1", **inputs},
                 refs={"bucket": frozenset({"urn:bucket"}), "rules": frozenset({"urn:key"})})
        for type_, inputs in settings.items()
        if type_ != skip
    ]
    return [key, bucket, *linked]


def stack_violations(rule: str, resources: Sequence[ResourceView], *, environment: str) -> list[Violation]:
    assert isinstance(RULES_BY_NAME[rule], StackRule)
    return [v for v in evaluate(resources, environment=environment) if v.rule == rule]


def test_bucket_with_every_guard_passes() -> None:
    assert stack_violations("s3-bucket-guarded", bucket_with_guards(), environment="dev") == []


@pytest.mark.parametrize("missing", [PAB, SSE, OWNERSHIP, POLICY, VERSIONING])
def test_bucket_missing_a_guard_is_a_mandatory_violation(missing: str) -> None:
    [violation] = stack_violations("s3-bucket-guarded", bucket_with_guards(skip=missing), environment="dev")
    assert violation.urn == "urn:bucket" and violation.severity == "mandatory"


def test_guards_link_to_their_bucket_by_dependency_when_the_name_is_unknown() -> None:
    # In a preview the bucket's name is not known yet; the engine's property dependencies still are.
    resources = [replace(r, inputs={k: v for k, v in r.inputs.items() if k != "bucket"}) for r in bucket_with_guards()]
    assert stack_violations("s3-bucket-guarded", resources, environment="dev") == []


def test_stack_rules_run_on_crossguard_props_with_unknown_values() -> None:
    # A real preview: CrossGuard's proxy raises on reading an unknown value (the bucket's
    # name, the key's ARN); the property dependencies must be enough to link them.
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    def unknown(inputs: Mapping[str, Any]) -> Mapping[str, Any]:
        text = json.dumps(inputs).replace('"urn:key"', json.dumps(UNKNOWN_STRING_VALUE))
        masked = {k: (UNKNOWN_STRING_VALUE if k == "bucket" else v) for k, v in json.loads(text).items()}
        return unknown_checking_proxy(masked)

    resources = [replace(r, inputs=unknown(r.inputs)) for r in bucket_with_guards(protect=False)]
    violations = [v for v in evaluate(resources, environment="prod") if v.rule in ("s3-bucket-guarded", "prod-data-protected")]
    assert sorted((v.rule, v.urn) for v in violations) == [
        ("prod-data-protected", "urn:bucket"),
        ("prod-data-protected", "urn:key"),
    ]


def test_protected_prod_bucket_and_key_pass() -> None:
    assert stack_violations("prod-data-protected", bucket_with_guards(), environment="prod") == []


def test_prod_bucket_without_protect_is_a_mandatory_violation() -> None:
    resources = [replace(r, protect=False) if r.type == BUCKET else r for r in bucket_with_guards()]
    [violation] = stack_violations("prod-data-protected", resources, environment="prod")
    assert (violation.urn, violation.severity) == ("urn:bucket", "mandatory")
    assert "teardown.json" in violation.message


def test_prod_bucket_key_without_protect_is_a_mandatory_violation() -> None:
    resources = [replace(r, protect=False) if r.type == KEY else r for r in bucket_with_guards()]
    [violation] = stack_violations("prod-data-protected", resources, environment="prod")
    assert violation.urn == "urn:key"


def test_prod_bucket_with_force_destroy_is_a_violation() -> None:
    violations = stack_violations("prod-data-protected", bucket_with_guards(force_destroy=True), environment="prod")
    assert [v.urn for v in violations] == ["urn:bucket"]


def test_dev_buckets_need_no_protection() -> None:
    resources = bucket_with_guards(protect=False, force_destroy=True)
    assert stack_violations("prod-data-protected", resources, environment="dev") == []


# --- the real stacks ---------------------------------------------------------------------


def test_dev_stack_has_no_mandatory_violation(dev: Recording) -> None:
    assert mandatory(evaluate(dev.resources, environment="dev")) == []


def test_prod_stack_has_no_mandatory_violation(prod: Recording) -> None:
    assert mandatory(evaluate(prod.resources, environment="prod")) == []


def test_prod_stack_with_an_unprotected_bucket_is_blocked(prod: Recording) -> None:
    data = prod.get(BUCKET, "data")
    resources = [replace(r, protect=False) if r is data else r for r in prod.resources]
    violations = mandatory(evaluate(resources, environment="prod"))
    assert [(v.rule, v.urn) for v in violations] == [("prod-data-protected", data.urn)]


def test_prod_data_keys_are_found_from_the_recording(prod: Recording) -> None:
    # The recorded SSE configuration names its key by ARN; the rule must follow it.
    key = prod.get(KEY, "data-key")
    resources = [replace(r, protect=False) if r is key else r for r in prod.resources]
    violations = mandatory(evaluate(resources, environment="prod"))
    assert [(v.rule, v.urn) for v in violations] == [("prod-data-protected", key.urn)]


def test_every_recorded_bucket_is_linked_to_its_guards(prod: Recording) -> None:
    assert [v for v in evaluate(prod.resources, environment="prod") if v.rule == "s3-bucket-guarded"] == []
    assert len(prod.of_type(BUCKET)) == 3


# --- the CrossGuard pack -----------------------------------------------------------------


def test_policy_pack_has_one_policy_per_rule_with_its_enforcement_level() -> None:
    from pulumi_policy import EnforcementLevel, StackValidationPolicy

    from policy.__main__ import policies

    built = policies()
    assert [p.name for p in built] == [rule.name for rule in RULES]
    for policy, rule in zip(built, RULES):
        level = EnforcementLevel.MANDATORY if rule.severity == "mandatory" else EnforcementLevel.ADVISORY
        assert policy.enforcement_level == level
        assert isinstance(policy, StackValidationPolicy) == isinstance(rule, StackRule)


# --- the offline runner ------------------------------------------------------------------


def test_offline_check_takes_the_environment_from_the_stack_file() -> None:
    from policy.check import stack_environment

    assert (stack_environment("dev"), stack_environment("prod")) == ("dev", "prod")


def test_markdown_report_has_one_row_per_violation() -> None:
    from policy.check import markdown

    violations = [Violation("s3-tls-only", "mandatory", "urn:pulumi:prod::mlops::aws:s3/bucketPolicy:BucketPolicy::data-policy", "a|b")]
    table = markdown(violations)
    assert table.splitlines()[2] == "| `s3-tls-only` | mandatory | `data-policy` | a\\|b |"
    assert markdown([]) == "No policy violations.\n"


def test_a_prod_cluster_needs_deletion_protection_and_dev_does_not() -> None:
    unprotected = {**GOOD_CLUSTER, "deletionProtection": False}
    assert violations_of("gke-prod-deletion-protection", CLUSTER, unprotected, environment="dev") == []
    [violation] = violations_of("gke-prod-deletion-protection", CLUSTER, unprotected, environment="prod")
    assert violation.severity == "mandatory" and "teardown.json" in violation.message


def test_the_teardown_config_lowers_every_prod_protection_rule() -> None:
    lowered = json.loads((ROOT / "policy" / "teardown.json").read_text())
    assert set(lowered) == {"prod-data-protected", "gke-prod-deletion-protection"}
    assert all(level == {"enforcementLevel": "advisory"} for level in lowered.values())


# --- exposure: what a resource lets the internet reach ------------------------------------

from policy.rules import AUTH_TOKEN_ENV, Opening, openings, widened  # noqa: E402

SERVICE = "kubernetes:core/v1:Service"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVING_LABELS = {"app.kubernetes.io/name": "model-server", "app.kubernetes.io/instance": "mlops-prod"}
GKE_INTERNAL = {"networking.gke.io/load-balancer-type": "Internal"}


def service(*, annotations: Mapping[str, str] | None = None, type_: str = "LoadBalancer", **spec: Any) -> dict[str, Any]:
    """A Service's inputs as the mock engine records the serving one."""
    return {
        "metadata": {"name": "model-server", "namespace": "mlops-prod", "annotations": dict(annotations or {})},
        "spec": {"type": type_, "selector": SERVING_LABELS,
                 "ports": [{"name": "http", "port": 8080.0, "protocol": "TCP", "targetPort": "http"}], **spec},
    }


def ingress_policy(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "model-server-ingress"},
            "spec": {"policyTypes": ["Ingress"], "podSelector": {"matchLabels": SERVING_LABELS}, "ingress": list(rules)}}


PORT_8080 = {"ports": [{"protocol": "TCP", "port": 8080.0}]}
EVERYONE_8080 = Opening("its load balancer", "TCP 8080", "0.0.0.0/0")

# (type, inputs) -> exactly what the internet can reach through it.
OPENINGS: dict[str, tuple[str, Mapping[str, Any], list[Opening]]] = {
    "internal-gke-lb": (SERVICE, service(annotations=GKE_INTERNAL), []),
    "internal-lb-any-case": (SERVICE, service(annotations={"networking.gke.io/load-balancer-type": "internal"}), []),
    "internal-aws-lb": (SERVICE, service(annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}), []),
    "cluster-ip": (SERVICE, service(type_="ClusterIP"), []),
    "public-lb": (SERVICE, service(), [EVERYONE_8080]),
    "public-lb-with-source-ranges": (SERVICE, service(loadBalancerSourceRanges=["198.51.100.0/24", "35.1.0.0/16"]),
                                     [Opening("its load balancer", "TCP 8080", "35.1.0.0/16")]),
    "policy-rule-without-from": (NETWORK_POLICY, ingress_policy(PORT_8080), [Opening("pod ingress", "TCP 8080", "0.0.0.0/0")]),
    "policy-rule-without-ports-or-from": (NETWORK_POLICY, ingress_policy({}), [Opening("pod ingress", "", "0.0.0.0/0")]),
    "policy-rule-from-pods-only": (NETWORK_POLICY, ingress_policy({**PORT_8080, "from": [{"podSelector": {}}]}), []),
    "policy-rule-from-private-block": (NETWORK_POLICY, ingress_policy({**PORT_8080, "from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}), []),
    "policy-rule-from-the-internet": (NETWORK_POLICY, ingress_policy({**PORT_8080, "from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}),
                                      [Opening("pod ingress", "TCP 8080", "0.0.0.0/0")]),
    "egress-only-policy": (NETWORK_POLICY, {"spec": {"policyTypes": ["Egress"], "podSelector": {}}}, []),
    "cluster-documentation-range": (CLUSTER, GOOD_CLUSTER, []),
    "cluster-public-network": (CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "35.1.2.0/24"}]}},
                               [Opening("the control plane", "", "35.1.2.0/24")]),
    "cluster-no-authorized-networks": (CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": None},
                                       [Opening("the control plane", "", "0.0.0.0/0")]),
    "cluster-google-cidrs": (CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": {"cidrBlocks": [], "gcpPublicCidrsAccessEnabled": True}},
                             [Opening("the control plane", "", "every Google Cloud address")]),
    "cluster-private-endpoint": (CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": None,
                                           "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": True}}, []),
    "cluster-dns-endpoint": (CLUSTER, {**GOOD_CLUSTER, "controlPlaneEndpointsConfig": {"dnsEndpointConfig": {"allowExternalTraffic": True}}},
                             [Opening("the control plane's DNS endpoint (IAM-guarded)", "", "0.0.0.0/0")]),
    "cluster-public-nodes": (CLUSTER, {**GOOD_CLUSTER, "privateClusterConfig": {"enablePrivateNodes": False}},
                             [Opening("the nodes' public addresses", "", "0.0.0.0/0")]),
    "tls-only-bucket-policy": (POLICY, {"policy": document(TLS_ONLY)}, []),
    "public-bucket-policy": (POLICY, {"policy": document({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})},
                             [Opening("the bucket policy", "", "0.0.0.0/0")]),
    "public-access-block-flag-off": (PAB, {"blockPublicAcls": True, "blockPublicPolicy": False, "ignorePublicAcls": True, "restrictPublicBuckets": True},
                                     [Opening("the public access block", "", "blockPublicPolicy off")]),
    "security-group-from-anywhere": (SG, ingress(cidrBlocks=["0.0.0.0/0", "10.0.0.0/16"]),
                                     [Opening("security group ingress", "TCP 443-443", "0.0.0.0/0")]),
}


@pytest.mark.parametrize("case", OPENINGS)
def test_openings_name_what_the_internet_can_reach(case: str) -> None:
    type_, inputs, expected = OPENINGS[case]
    assert openings(type_, inputs) == expected


# (base, head) -> the openings that are new at HEAD.
WIDENED: dict[str, tuple[list[Opening], list[Opening], list[Opening]]] = {
    "nothing-before": ([], [EVERYONE_8080], [EVERYONE_8080]),
    "same-opening": ([EVERYONE_8080], [EVERYONE_8080], []),
    "narrowed": ([EVERYONE_8080], [Opening("its load balancer", "TCP 8080", "35.1.0.0/16")], []),
    "wider-range": ([Opening("the control plane", "", "35.1.2.0/24")], [Opening("the control plane", "", "35.1.0.0/16")],
                    [Opening("the control plane", "", "35.1.0.0/16")]),
    "another-range": ([Opening("the control plane", "", "35.1.2.0/24")], [Opening("the control plane", "", "35.9.9.0/24")],
                      [Opening("the control plane", "", "35.9.9.0/24")]),
    "new-port": ([EVERYONE_8080], [Opening("its load balancer", "TCP 9090", "0.0.0.0/0")],
                 [Opening("its load balancer", "TCP 9090", "0.0.0.0/0")]),
    "every-port-covers-one": ([Opening("pod ingress", "", "0.0.0.0/0")], [Opening("pod ingress", "TCP 8080", "0.0.0.0/0")], []),
    "one-port-to-every-port": ([Opening("pod ingress", "TCP 8080", "0.0.0.0/0")], [Opening("pod ingress", "", "0.0.0.0/0")],
                               [Opening("pod ingress", "", "0.0.0.0/0")]),
}


@pytest.mark.parametrize("case", WIDENED)
def test_widened_is_what_head_opens_that_base_did_not(case: str) -> None:
    base, head, expected = WIDENED[case]
    assert widened(base, head) == expected


def serving_deployment(*env: dict[str, Any]) -> Resource:
    inputs = {"metadata": {"name": "model-server", "namespace": "mlops-prod"},
              "spec": {"selector": {"matchLabels": SERVING_LABELS},
                       "template": {"metadata": {"labels": SERVING_LABELS},
                                    "spec": {"containers": [{"name": "server", "image": DIGEST, "env": list(env)}]}}}}
    return Resource(DEPLOYMENT, "serving-deployment", "urn:deployment", inputs)


TOKEN_FROM_SECRET = {"name": AUTH_TOKEN_ENV, "valueFrom": {"secretKeyRef": {"name": "model-server-auth", "key": "token"}}}
PUBLIC = Resource(SERVICE, "serving-service", "urn:service", service())
INTERNAL = Resource(SERVICE, "serving-service", "urn:service", service(annotations=GKE_INTERNAL))

# (resources, environment) -> the endpoint rules that fire, with their severity.
ENDPOINT_CASES: dict[str, tuple[list[Resource], str, list[tuple[str, str]]]] = {
    "prod-public-without-token": ([PUBLIC, serving_deployment()], "prod", [("prod-public-endpoint-authenticated", "mandatory")]),
    "prod-public-with-token-from-secret": ([PUBLIC, serving_deployment(TOKEN_FROM_SECRET)], "prod", []),
    "prod-public-with-literal-token": ([PUBLIC, serving_deployment({"name": AUTH_TOKEN_ENV, "value": "t0ken"})], "prod",
                                       [("prod-public-endpoint-authenticated", "mandatory")]),
    "prod-public-without-matching-pods": ([PUBLIC], "prod", [("prod-public-endpoint-authenticated", "mandatory")]),
    "prod-internal": ([INTERNAL, serving_deployment()], "prod", []),
    "dev-public-without-token": ([PUBLIC, serving_deployment()], "dev", [("public-endpoint-authenticated", "advisory")]),
    "dev-public-with-token": ([PUBLIC, serving_deployment(TOKEN_FROM_SECRET)], "dev", []),
}


@pytest.mark.parametrize("case", ENDPOINT_CASES)
def test_a_public_endpoint_needs_a_bearer_token_from_a_secret(case: str) -> None:
    # A public L4 load balancer has no authentication of its own: anyone can call the model.
    resources, environment, expected = ENDPOINT_CASES[case]
    found = [(v.rule, v.severity) for v in evaluate(resources, environment=environment) if "endpoint" in v.rule]
    assert found == expected


def test_prod_with_a_public_endpoint_passes_because_the_server_checks_a_token(prod_public: Recording) -> None:
    assert mandatory(evaluate(prod_public.resources, environment="prod")) == []


def test_prod_with_a_public_endpoint_and_no_token_is_blocked(prod_public: Recording) -> None:
    service = prod_public.get(SERVICE, "serving-service")
    untokened = [_without_token_env(r) if r.type == "kubernetes:apps/v1:Deployment" else r for r in prod_public.resources]
    assert [(v.rule, v.urn) for v in mandatory(evaluate(untokened, environment="prod"))] == [
        ("prod-public-endpoint-authenticated", service.urn)
    ]


def _without_token_env(deployment: Registration) -> Registration:
    inputs = copy.deepcopy(deployment.inputs)
    for container in inputs["spec"]["template"]["spec"]["containers"]:
        container["env"] = [e for e in container.get("env", []) if e["name"] != "MLOPS_AUTH_TOKEN"]
    return replace(deployment, inputs=inputs)


# --- every item of every list the rules hold ------------------------------------------------
#
# Each rule keeps lists: the resource types it checks, the values it accepts or refuses. A
# test per item, so that an item dropped from a list (a type no longer checked, a host
# namespace no longer refused) fails here.

BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
SSE_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"
BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl"
BUCKET_ACL_V2 = "aws:s3/bucketAclV2:BucketAclV2"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
WORKLOAD_KINDS = {
    "kubernetes:apps/v1:Deployment": lambda spec: {"spec": {"template": {"spec": spec}}},
    "kubernetes:apps/v1:StatefulSet": lambda spec: {"spec": {"template": {"spec": spec}}},
    "kubernetes:apps/v1:DaemonSet": lambda spec: {"spec": {"template": {"spec": spec}}},
    "kubernetes:batch/v1:Job": lambda spec: {"spec": {"template": {"spec": spec}}},
    "kubernetes:batch/v1:CronJob": lambda spec: {"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}},
    "kubernetes:core/v1:Pod": lambda spec: {"spec": spec},
}
ROOT_POD = pod(pod_security={"runAsNonRoot": False})["spec"]["template"]["spec"]
HOST_PID_POD = pod(hostPID=True)["spec"]["template"]["spec"]
SSH_FROM_ANYWHERE = {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}
STAR_ACTION = document(allow("*", "*"))

# rule -> {type: inputs that break the rule on that type}: exactly the types the rule checks.
REJECTED_ON_EVERY_TYPE: dict[str, dict[str, Mapping[str, Any]]] = {
    "s3-encryption": {SSE: {"rules": []}, SSE_V2: {"rules": []}},
    "s3-bucket-key": {t: {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]} for t in (SSE, SSE_V2)},
    "s3-public-access-block": {PAB: {}},
    "s3-tls-only": {POLICY: {"policy": document()}},
    "s3-no-public-policy": {POLICY: {"policy": document({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"})}},
    "s3-ownership-enforced": {OWNERSHIP: {"rule": {"objectOwnership": "ObjectWriter"}}},
    "s3-no-public-acl": {t: {"acl": "public-read"} for t in (BUCKET, BUCKET_V2, BUCKET_ACL, BUCKET_ACL_V2)},
    "s3-versioning": {VERSIONING: {}, VERSIONING_V2: {}},
    "ecr-immutable-tags": {REPO: {}},
    "ecr-scan-on-push": {REPO: {}},
    "kms-key-rotation": {KEY: {}},
    "ec2-imdsv2": {INSTANCE: {}, LAUNCH_TEMPLATE: {}},
    "ec2-instance-no-public-ip": {INSTANCE: {"associatePublicIpAddress": True}},
    "ec2-no-public-ip-on-launch": {SUBNET: {"mapPublicIpOnLaunch": True},
                                   LAUNCH_TEMPLATE: {"networkInterfaces": [{"associatePublicIpAddress": True}]}},
    "ec2-encrypted-volumes": {INSTANCE: {"rootBlockDevice": {}},
                              LAUNCH_TEMPLATE: {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {}}]}},
    "ec2-no-internet-ingress": {
        SG: {"ingress": [SSH_FROM_ANYWHERE]}, DEFAULT_SG: {"ingress": [SSH_FROM_ANYWHERE]},
        SG_RULE: {"type": "ingress", **SSH_FROM_ANYWHERE},
        INGRESS_RULE: {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"},
    },
    "ec2-no-ssh-ingress": {
        SG: {"ingress": [SSH_FROM_ANYWHERE]}, DEFAULT_SG: {"ingress": [SSH_FROM_ANYWHERE]},
        SG_RULE: {"type": "ingress", **SSH_FROM_ANYWHERE},
        INGRESS_RULE: {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "10.0.0.0/8"},
    },
    "iam-no-wildcard-action": {
        **{t: {"policy": STAR_ACTION} for t in ("aws:iam/policy:Policy", ROLE_POLICY, "aws:iam/userPolicy:UserPolicy",
                                                 "aws:iam/groupPolicy:GroupPolicy")},
        ROLE: {"inlinePolicies": [{"name": "p", "policy": STAR_ACTION}]},
    },
    "iam-no-wildcard-resource": {
        **{t: {"policy": STAR_ACTION} for t in ("aws:iam/policy:Policy", ROLE_POLICY, "aws:iam/userPolicy:UserPolicy",
                                                 "aws:iam/groupPolicy:GroupPolicy")},
        ROLE: {"inlinePolicies": [{"name": "p", "policy": STAR_ACTION}]},
    },
    "iam-no-admin-policy": {t: {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"} for t in (
        ATTACHMENT, "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment")},
    **{rule: {kind: wrap(ROOT_POD) for kind, wrap in WORKLOAD_KINDS.items()} for rule in ("k8s-run-as-non-root",)},
    "k8s-no-privilege-escalation": {k: w({"containers": [{"name": "c"}]}) for k, w in WORKLOAD_KINDS.items()},
    "k8s-read-only-root-filesystem": {k: w({"containers": [{"name": "c"}]}) for k, w in WORKLOAD_KINDS.items()},
    "k8s-drop-all-capabilities": {k: w({"containers": [{"name": "c"}]}) for k, w in WORKLOAD_KINDS.items()},
    "k8s-seccomp-runtime-default": {k: w({"containers": [{"name": "c"}]}) for k, w in WORKLOAD_KINDS.items()},
    "k8s-resource-limits": {k: w({"containers": [{"name": "c"}]}) for k, w in WORKLOAD_KINDS.items()},
    "k8s-image-digest": {k: w({"containers": [{"name": "c", "image": "serve:latest"}]}) for k, w in WORKLOAD_KINDS.items()},
    "k8s-no-privileged-or-host": {kind: wrap(HOST_PID_POD) for kind, wrap in WORKLOAD_KINDS.items()},
    "gke-private-nodes": {CLUSTER: {}},
    "gke-control-plane-not-open": {CLUSTER: {}},
    "gke-workload-identity": {CLUSTER: {}},
    "gke-network-policy-enforced": {CLUSTER: {}},
    "gke-shielded-nodes": {CLUSTER: {"enableShieldedNodes": False}},
    "gke-prod-deletion-protection": {CLUSTER: {}},
}
TYPE_CASES = [(rule, type_) for rule, by_type in REJECTED_ON_EVERY_TYPE.items() for type_ in by_type]


def test_the_type_table_names_exactly_the_types_each_rule_checks() -> None:
    # So that the case table below cannot miss a type, and a type dropped from a rule shows here too.
    resource_rules = {rule.name: set(rule.types) for rule in RULES if isinstance(rule, ResourceRule)}
    assert resource_rules == {rule: set(by_type) for rule, by_type in REJECTED_ON_EVERY_TYPE.items()}


@pytest.mark.parametrize(("rule", "type_"), TYPE_CASES, ids=[f"{r}-{t.rsplit(':', 1)[-1]}" for r, t in TYPE_CASES])
def test_each_rule_checks_each_of_its_types(rule: str, type_: str) -> None:
    # A type the rule skips is a resource of that kind deployed unchecked (a V2 bucket, a CronJob's pods).
    [violation] = violations_of(rule, type_, REJECTED_ON_EVERY_TYPE[rule][type_], environment="prod")
    assert violation.rule == rule


SEVERITY = {
    "s3-encryption": "mandatory", "s3-bucket-key": "advisory", "s3-public-access-block": "mandatory",
    "s3-tls-only": "mandatory", "s3-no-public-policy": "mandatory", "s3-ownership-enforced": "mandatory",
    "s3-no-public-acl": "mandatory", "s3-versioning": "mandatory", "s3-bucket-guarded": "mandatory",
    "prod-data-protected": "mandatory", "ecr-immutable-tags": "mandatory", "ecr-scan-on-push": "mandatory",
    "kms-key-rotation": "mandatory", "ec2-imdsv2": "mandatory", "ec2-instance-no-public-ip": "mandatory",
    "ec2-no-public-ip-on-launch": "advisory", "ec2-encrypted-volumes": "mandatory",
    "ec2-no-internet-ingress": "mandatory", "ec2-no-ssh-ingress": "mandatory", "iam-no-wildcard-action": "mandatory",
    "iam-no-wildcard-resource": "mandatory", "iam-no-admin-policy": "mandatory", "k8s-run-as-non-root": "mandatory",
    "k8s-no-privilege-escalation": "mandatory", "k8s-read-only-root-filesystem": "mandatory",
    "k8s-drop-all-capabilities": "mandatory", "k8s-seccomp-runtime-default": "mandatory",
    "k8s-resource-limits": "mandatory", "k8s-image-digest": "mandatory", "k8s-no-privileged-or-host": "mandatory",
    "gke-private-nodes": "mandatory", "gke-control-plane-not-open": "mandatory", "gke-workload-identity": "mandatory",
    "gke-network-policy-enforced": "mandatory", "gke-shielded-nodes": "mandatory",
    "gke-prod-deletion-protection": "mandatory", "prod-public-endpoint-authenticated": "mandatory",
    "public-endpoint-authenticated": "advisory",
}


def test_each_rule_has_its_severity_in_its_order() -> None:
    # A mandatory rule turned advisory lets `pulumi up` through; the order is the report's order.
    assert [(rule.name, rule.severity) for rule in RULES] == list(SEVERITY.items())


def test_the_severity_of_a_violation_is_its_rule_severity() -> None:
    [advisory] = violations_of("s3-bucket-key", SSE, REJECTED_ON_EVERY_TYPE["s3-bucket-key"][SSE])
    [blocking] = violations_of("s3-encryption", SSE, {"rules": []})
    assert (advisory.severity, blocking.severity, mandatory([advisory, blocking])) == ("advisory", "mandatory", [blocking])


# Rules that look at the environment; every other rule holds in dev and prod alike.
PROD_ONLY = {"gke-prod-deletion-protection", "prod-data-protected", "prod-public-endpoint-authenticated"}
OUTSIDE_PROD_ONLY = {"public-endpoint-authenticated"}


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("rule", sorted(REJECTED_ON_EVERY_TYPE))
def test_each_resource_rule_applies_in_the_environments_it_names(rule: str, environment: str) -> None:
    type_, inputs = next(iter(REJECTED_ON_EVERY_TYPE[rule].items()))
    fires = bool(violations_of(rule, type_, inputs, environment=environment))
    assert fires == (environment == "prod" or rule not in PROD_ONLY)


def test_the_environment_rules_are_the_prod_protections_and_the_endpoint_pair() -> None:
    # The stack rules' environments are pinned by their own tests (prod data, ENDPOINT_CASES).
    stack_rules = {rule.name for rule in RULES if isinstance(rule, StackRule)}
    assert stack_rules == {"s3-bucket-guarded", "prod-data-protected", "prod-public-endpoint-authenticated",
                           "public-endpoint-authenticated"}
    assert stack_violations("prod-data-protected", bucket_with_guards(protect=False), environment="staging") == []


# (rule, type, inputs, accepted?) for each value a rule's lists hold.
VALUE_CASES: dict[str, tuple[str, str, Mapping[str, Any], bool]] = {
    **{f"sse-{a}": ("s3-encryption", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": a}}]}, True)
       for a in ("aws:kms", "aws:kms:dsse", "AES256")},
    "sse-missing": ("s3-encryption", SSE, {"rules": [{}]}, False),
    **{f"bucket-key-needed-for-{a}": ("s3-bucket-key", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": a}}]}, False)
       for a in ("aws:kms", "aws:kms:dsse")},
    "bucket-key-as-string": ("s3-bucket-key", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}, "bucketKeyEnabled": "true"}]}, True),
    "no-bucket-key-for-aes256": ("s3-bucket-key", SSE, {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}, True),
    **{f"acl-{acl}": ("s3-no-public-acl", BUCKET, {"acl": acl}, False) for acl in ("public-read", "public-read-write", "authenticated-read")},
    "acl-private": ("s3-no-public-acl", BUCKET, {"acl": "private"}, True),
    **{f"public-access-flag-{flag}-off": ("s3-public-access-block", PAB, {**{f: True for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}, flag: False}, False)
       for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")},
    "public-access-flags-as-strings": ("s3-public-access-block", PAB, {f: "TRUE" for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}, True),
    "tls-deny-on-star-action": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Action": "*"})}, True),
    "tls-deny-on-action-list": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Action": ["s3:GetObject", "s3:*"]})}, True),
    "tls-deny-on-one-action": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Action": "s3:GetObject"})}, False),
    "tls-deny-to-aws-star": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Principal": {"AWS": "*"}})}, True),
    "tls-deny-to-aws-star-list": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Principal": {"AWS": ["*"]}})}, True),
    "tls-allow-is-no-deny": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Effect": "Allow"})}, False),
    "tls-condition-boolean": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Condition": {"Bool": {"aws:SecureTransport": False}}})}, True),
    "tls-condition-true-denies-tls": ("s3-tls-only", POLICY, {"policy": document({**TLS_ONLY, "Condition": {"Bool": {"aws:SecureTransport": "true"}}})}, False),
    "tls-policy-as-object": ("s3-tls-only", POLICY, {"policy": {"Statement": [TLS_ONLY]}}, True),
    "tls-policy-empty-string": ("s3-tls-only", POLICY, {"policy": ""}, False),
    "public-policy-with-condition": ("s3-no-public-policy", POLICY, {"policy": document({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Condition": {"StringEquals": {"aws:SourceAccount": "1"}}})}, True),
    "public-policy-deny": ("s3-no-public-policy", POLICY, {"policy": document({"Effect": "Deny", "Principal": "*", "Action": "s3:*"})}, True),
    "public-policy-aws-star": ("s3-no-public-policy", POLICY, {"policy": document({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject"})}, False),
    "ownership-missing": ("s3-ownership-enforced", OWNERSHIP, {}, False),
    "versioning-missing": ("s3-versioning", VERSIONING, {}, False),
    "scan-on-push-as-string": ("ecr-scan-on-push", REPO, {"imageScanningConfiguration": {"scanOnPush": "true"}}, True),
    "rotation-as-string": ("kms-key-rotation", KEY, {"enableKeyRotation": "true"}, True),
    "symmetric-by-key-spec": ("kms-key-rotation", KEY, {"keySpec": "SYMMETRIC_DEFAULT"}, False),
    "asymmetric-by-master-key-spec": ("kms-key-rotation", KEY, {"customerMasterKeySpec": "ECC_NIST_P256"}, True),
    "imds-optional": ("ec2-imdsv2", LAUNCH_TEMPLATE, {"metadataOptions": {"httpTokens": "optional"}}, False),
    "public-ip-as-string": ("ec2-instance-no-public-ip", INSTANCE, {"associatePublicIpAddress": "true"}, False),
    "launch-template-private-interface": ("ec2-no-public-ip-on-launch", LAUNCH_TEMPLATE, {"networkInterfaces": [{"associatePublicIpAddress": "false"}]}, True),
    "unencrypted-ebs-volume": ("ec2-encrypted-volumes", INSTANCE, {"rootBlockDevice": {"encrypted": True}, "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}, {"deviceName": "/dev/sdg"}]}, False),
    "encrypted-ebs-volumes": ("ec2-encrypted-volumes", INSTANCE, {"rootBlockDevice": {"encrypted": "true"}, "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}]}, True),
    "launch-template-mapping-without-ebs": ("ec2-encrypted-volumes", LAUNCH_TEMPLATE, {"blockDeviceMappings": [{"deviceName": "/dev/sdb", "virtualName": "ephemeral0"}]}, True),
    **{f"ingress-from-{cidr}": ("ec2-no-internet-ingress", SG, ingress(cidrBlocks=[cidr] if "." in cidr else [], ipv6CidrBlocks=[cidr] if ":" in cidr else []), False)
       for cidr in ("0.0.0.0/0", "::/0")},
    "egress-rule-from-anywhere": ("ec2-no-internet-ingress", SG_RULE, {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}, True),
    "vpc-ingress-rule-ipv6-anywhere": ("ec2-no-internet-ingress", INGRESS_RULE, {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv6": "::/0"}, False),
    "sg-rule-ipv6-anywhere": ("ec2-no-internet-ingress", SG_RULE, {"type": "ingress", "protocol": "tcp", "fromPort": 443, "toPort": 443, "ipv6CidrBlocks": ["::/0"]}, False),
    **{f"ssh-by-protocol-{p}": ("ec2-no-ssh-ingress", SG, ingress(protocol=p, fromPort=22.0, toPort=22.0), False) for p in ("tcp", "6")},
    **{f"every-port-by-protocol-{p}": ("ec2-no-ssh-ingress", SG, ingress(protocol=p, fromPort=0.0, toPort=0.0), False) for p in ("-1", "all")},
    "udp-22-is-not-ssh": ("ec2-no-ssh-ingress", SG, ingress(protocol="udp", fromPort=22.0, toPort=22.0), True),
    "range-over-22": ("ec2-no-ssh-ingress", SG, ingress(fromPort=20.0, toPort=25.0), False),
    "range-ending-at-22": ("ec2-no-ssh-ingress", SG, ingress(fromPort=10.0, toPort=22.0), False),
    "range-below-22": ("ec2-no-ssh-ingress", SG, ingress(fromPort=10.0, toPort=21.0), True),
    "range-above-22": ("ec2-no-ssh-ingress", SG, ingress(fromPort=23.0, toPort=30.0), True),
    "rule-from-port-22-only": ("ec2-no-ssh-ingress", INGRESS_RULE, {"ipProtocol": "tcp", "fromPort": 22}, False),
    "not-action": ("iam-no-wildcard-action", ROLE_POLICY, {"policy": document({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"})}, False),
    "not-resource": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b"})}, False),
    "star-resource-without-actions": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document({"Effect": "Allow", "Resource": "*"})}, False),
    "star-resource-in-a-list": ("iam-no-wildcard-resource", ROLE_POLICY, {"policy": document(allow("s3:GetObject", ["arn:aws:s3:::b", "*"]))}, False),
    **{f"admin-policy-{name}": ("iam-no-admin-policy", ATTACHMENT, {"policyArn": f"arn:aws:iam::aws:policy/{name}"}, False)
       for name in ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")},
    "admin-like-name-in-a-path": ("iam-no-admin-policy", ATTACHMENT, {"policyArn": "arn:aws:iam::1:policy/AdministratorAccess/scoped"}, True),
    "host-namespace-hostNetwork": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(hostNetwork=True), False),
    "host-namespace-hostPID": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(hostPID=True), False),
    "host-namespace-hostIPC": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(hostIPC=True), False),
    "host-namespaces-false": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(hostNetwork=False, hostPID=False, hostIPC=False), True),
    "privileged-init-container": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(initContainers=[{"name": "init", "securityContext": {"privileged": True}}]), False),
    **{f"seccomp-{p}": ("k8s-seccomp-runtime-default", DEPLOYMENT, pod(pod_security={"seccompProfile": {"type": p}}), True)
       for p in ("RuntimeDefault", "Localhost")},
    "seccomp-container-overrides-pod": ("k8s-seccomp-runtime-default", DEPLOYMENT, pod(pod_security={"seccompProfile": {"type": "Unconfined"}}, container=container_security(seccompProfile={"type": "RuntimeDefault"})), True),
    "non-root-from-container-only": ("k8s-run-as-non-root", DEPLOYMENT, pod(pod_security={"runAsNonRoot": None}, container=container_security(runAsNonRoot=True)), True),
    "non-root-as-string-is-not-true": ("k8s-run-as-non-root", DEPLOYMENT, pod(pod_security={"runAsNonRoot": "true"}), False),
    **{f"limit-{r}-missing": ("k8s-resource-limits", DEPLOYMENT, pod(container={"resources": {"limits": {k: "1" for k in ("cpu", "memory") if k != r}}}), False)
       for r in ("cpu", "memory")},
    "init-container-without-limits": ("k8s-resource-limits", DEPLOYMENT, pod(initContainers=[{"name": "init"}]), False),
    "drop-all-among-others": ("k8s-drop-all-capabilities", DEPLOYMENT, pod(container=container_security(capabilities={"drop": ["NET_RAW", "ALL"]})), True),
    "escalation-unset": ("k8s-no-privilege-escalation", DEPLOYMENT, pod(container={"securityContext": {"readOnlyRootFilesystem": True}}), False),
    "digest-too-short": ("k8s-image-digest", DEPLOYMENT, pod(container={"image": "serve@sha256:" + "a" * 63}), False),
    "digest-then-more": ("k8s-image-digest", DEPLOYMENT, pod(container={"image": DIGEST + "x"}), False),
    "control-plane-open-ipv6": ("gke-control-plane-not-open", CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "::/0"}]}}, False),
    "network-policy-addon-on-legacy-dataplane": ("gke-network-policy-enforced", CLUSTER, {**GOOD_CLUSTER, "datapathProvider": None, "networkPolicy": {"enabled": True}}, True),
    "shielded-nodes-unset": ("gke-shielded-nodes", CLUSTER, {}, True),
    "shielded-nodes-false-as-string": ("gke-shielded-nodes", CLUSTER, {"enableShieldedNodes": "false"}, False),
    "prod-deletion-protection-as-string": ("gke-prod-deletion-protection", CLUSTER, {"deletionProtection": "true"}, True),
}


@pytest.mark.parametrize("case", VALUE_CASES)
def test_each_value_a_rule_lists_is_accepted_or_refused(case: str) -> None:
    rule, type_, inputs, accepted = VALUE_CASES[case]
    assert (violations_of(rule, type_, inputs, environment="prod") == []) == accepted


def test_a_violation_names_its_rule_resource_and_what_to_set() -> None:
    [violation] = violations_of("k8s-no-privileged-or-host", DEPLOYMENT, pod(hostNetwork=True, hostPID=True, hostIPC=True))
    assert violation == Violation("k8s-no-privileged-or-host", "mandatory", f"urn:pulumi:dev::mlops::{DEPLOYMENT}::r",
                                  "the pod shares the node's namespaces: hostNetwork, hostPID, hostIPC")


# Each annotation that keeps a LoadBalancer Service internal, on the cloud it belongs to.
INTERNAL_ANNOTATIONS = {
    "networking.gke.io/load-balancer-type": "Internal",
    "cloud.google.com/load-balancer-type": "Internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
}


@pytest.mark.parametrize("annotation", INTERNAL_ANNOTATIONS)
def test_each_internal_load_balancer_annotation_keeps_the_service_off_the_internet(annotation: str) -> None:
    # Without one, a LoadBalancer Service gets a public address: the model answers the internet.
    assert openings(SERVICE, service(annotations={annotation: INTERNAL_ANNOTATIONS[annotation]})) == []


def test_an_internal_annotation_with_another_value_keeps_the_service_public() -> None:
    assert openings(SERVICE, service(annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"})) == [EVERYONE_8080]


@pytest.mark.parametrize("flag", ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
def test_each_public_access_flag_off_is_an_opening(flag: str) -> None:
    inputs = {**{f: True for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")}, flag: False}
    assert openings(PAB, inputs) == [Opening("the public access block", "", f"{flag} off")]


MORE_OPENINGS: dict[str, tuple[str, Mapping[str, Any], list[Opening]]] = {
    **{f"public-acl-on-{t.rsplit(':', 1)[-1]}": (t, {"acl": "public-read"}, [Opening("the bucket ACL", "", "public-read")])
       for t in (BUCKET, BUCKET_V2, BUCKET_ACL, BUCKET_ACL_V2)},
    "private-acl": (BUCKET_ACL, {"acl": "private"}, []),
    "security-group-every-port": (SG, ingress(protocol="-1", fromPort=0.0, toPort=0.0, cidrBlocks=["0.0.0.0/0"]),
                                  [Opening("security group ingress", "", "0.0.0.0/0")]),
    "security-group-rule-range": (SG_RULE, {"type": "ingress", "protocol": "tcp", "fromPort": 8000.0, "toPort": 8080.0, "cidrBlocks": ["35.1.0.0/16"]},
                                  [Opening("security group ingress", "TCP 8000-8080", "35.1.0.0/16")]),
    "vpc-ingress-rule-ipv6": (INGRESS_RULE, {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv6": "::/0"},
                              [Opening("security group ingress", "TCP 443-443", "::/0")]),
    "service-udp-port": (SERVICE, service(ports=[{"port": 53.0, "protocol": "UDP"}, {"port": 8080}]),
                         [Opening("its load balancer", "UDP 53", "0.0.0.0/0"), Opening("its load balancer", "TCP 8080", "0.0.0.0/0")]),
    "service-only-private-source-ranges": (SERVICE, service(loadBalancerSourceRanges=["10.0.0.0/8"]), []),
    "policy-without-types-is-ingress": (NETWORK_POLICY, {"spec": {"ingress": [PORT_8080]}}, [Opening("pod ingress", "TCP 8080", "0.0.0.0/0")]),
    "cluster-open-dns-and-nodes": (CLUSTER, {"privateClusterConfig": {"enablePrivateEndpoint": True, "enablePrivateNodes": "false"},
                                             "controlPlaneEndpointsConfig": {"dnsEndpointConfig": {"allowExternalTraffic": "true"}}},
                                   [Opening("the control plane's DNS endpoint (IAM-guarded)", "", "0.0.0.0/0"),
                                    Opening("the nodes' public addresses", "", "0.0.0.0/0")]),
    "cluster-private-authorized-network": (CLUSTER, {**GOOD_CLUSTER, "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "10.0.0.0/8"}]}}, []),
    "unrelated-type": ("aws:sns/topic:Topic", {"policy": "{}"}, []),
}


@pytest.mark.parametrize("case", MORE_OPENINGS)
def test_each_door_and_port_form_is_an_opening(case: str) -> None:
    type_, inputs, expected = MORE_OPENINGS[case]
    assert openings(type_, inputs) == expected


def test_an_opening_describes_who_it_admits_and_on_which_port() -> None:
    assert [o.describe() for o in (EVERYONE_8080, Opening("pod ingress", "", "::/0"), Opening("the control plane", "", "35.1.2.0/24"))] == [
        "its load balancer admits every address on TCP 8080", "pod ingress admits every address",
        "the control plane admits 35.1.2.0/24"]


def test_an_ipv6_opening_is_not_covered_by_an_ipv4_one() -> None:
    assert widened([Opening("pod ingress", "", "0.0.0.0/0")], [Opening("pod ingress", "", "::/0")]) == [Opening("pod ingress", "", "::/0")]


def test_a_named_source_is_covered_only_by_itself() -> None:
    google = Opening("the control plane", "", "every Google Cloud address")
    assert (widened([google], [google]), widened([Opening("the control plane", "", "0.0.0.0/0")], [google])) == ([], [google])


def test_another_door_does_not_cover_an_opening() -> None:
    assert widened([Opening("pod ingress", "", "0.0.0.0/0")], [EVERYONE_8080]) == [EVERYONE_8080]


# --- stack rules on the V2 bucket types and by value ---------------------------------------


@dataclass(frozen=True)
class Recorded:
    """A resource with the engine's id/state, as `make diff` links settings to buckets by value."""

    type: str
    name: str
    urn: str
    inputs: Mapping[str, Any]
    state: Mapping[str, Any]
    protect: bool = False

    @property
    def id(self) -> str:
        return str(self.state.get("bucket") or self.name)


def test_a_v2_bucket_is_checked_for_its_guards() -> None:
    bucket = Resource(BUCKET_V2, "data", "urn:bucket", {"bucket": "data-1"})
    [violation] = stack_violations("s3-bucket-guarded", [bucket], environment="dev")
    assert violation.message == ("bucket data has no public access block, no encryption configuration, no ownership "
                                 "controls, no bucket policy, no versioning")


def test_v2_settings_guard_their_bucket_when_linked_by_name() -> None:
    # Offline (no refs), a setting points at its bucket by the bucket's name, as the mock engine records it.
    bucket = Recorded(BUCKET, "data", "urn:bucket", {"bucket": "data-1"}, state={"bucket": "data-1"})
    settings = [
        Resource(PAB, "pab", "urn:pab", {"bucket": "data-1"}),
        Resource(SSE_V2, "sse", "urn:sse", {"bucket": "data-1"}),
        Resource(OWNERSHIP, "own", "urn:own", {"bucket": "data-1"}),
        Resource(POLICY, "pol", "urn:pol", {"bucket": "data-1"}),
        Resource(VERSIONING_V2, "ver", "urn:ver", {"bucket": "data-1"}),
    ]
    assert stack_violations("s3-bucket-guarded", [bucket, *settings], environment="dev") == []


def test_a_prod_v2_bucket_must_be_protected() -> None:
    bucket = Resource(BUCKET_V2, "data", "urn:bucket", {"bucket": "data-1", "forceDestroy": "true"})
    assert [v.message.split(":", 1)[0] for v in stack_violations("prod-data-protected", [bucket], environment="prod")] == [
        "prod bucket data is not protected", "prod bucket data has forceDestroy"]


def test_a_prod_key_is_found_by_its_arn_without_refs() -> None:
    arn = "arn:aws:kms:us-east-1:123456789012:key/k"
    key = Recorded(KEY, "key", "urn:key", {}, state={"arn": arn})
    sse = Resource(SSE_V2, "sse", "urn:sse", {"rules": [{"applyServerSideEncryptionByDefault": {"kmsMasterKeyId": arn}}]})
    assert [v.urn for v in stack_violations("prod-data-protected", [key, sse], environment="prod")] == ["urn:key"]


# --- python -m policy.check ---------------------------------------------------------------


def test_offline_check_runs_the_rules_with_the_stack_environment(monkeypatch: pytest.MonkeyPatch, prod: Recording) -> None:
    # prod's rules (protection, deletion protection) only hold when the check knows the stack is prod.
    import policy.check as check

    data = prod.get(BUCKET, "data")
    unprotected = Recording(resources=[replace(r, protect=False) if r is data else r for r in prod.resources])
    monkeypatch.setattr(check, "run_stack", lambda stack: unprotected)
    assert [(v.rule, v.urn) for v in mandatory(check.check_stack("prod"))] == [("prod-data-protected", data.urn)]


def test_a_stack_without_an_environment_is_checked_as_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    import policy.check as check

    monkeypatch.setattr(check, "stack_config", lambda stack: {"aws:region": "us-east-1"})
    assert check.stack_environment("prod") == "prod"


def test_offline_check_exits_1_on_a_mandatory_violation_and_0_on_advisories(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `pulumi preview --policy-pack` fails on a mandatory rule only; the offline check must agree.
    import policy.check as check

    urn = f"urn:pulumi:dev::mlops::{SSE}::data-sse"
    found = {"dev": [Violation("s3-bucket-key", "advisory", urn, "no bucket key")],
             "prod": [Violation("s3-encryption", "mandatory", urn, "no rule"), Violation("s3-bucket-key", "advisory", urn, "no key")]}
    monkeypatch.setattr(check, "check_stack", lambda stack: found[stack])
    assert check.main([]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "advisory  s3-bucket-key                    data-sse: no bucket key", "dev: 1 violation(s), 0 mandatory"]
    assert check.main(["--stack", "prod"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "prod: 2 violation(s), 1 mandatory"


def test_the_markdown_report_has_a_header_and_names_a_stack_violation() -> None:
    from policy.check import markdown

    table = markdown([Violation("s3-bucket-guarded", "mandatory", "", "x")])
    assert table == "| rule | severity | resource | message |\n| --- | --- | --- | --- |\n| `s3-bucket-guarded` | mandatory | `(stack)` | x |\n"
