"""What the policy tests build: resource types, inputs that break one property, and the runs of one rule.

The rules are plain functions (policy/rules/), so they run here without the Pulumi CLI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from policy.rules import RULES_BY_NAME, Resource, ResourceView, StackRule, Violation, evaluate

SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
SSE_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl"
BUCKET_ACL_V2 = "aws:s3/bucketAclV2:BucketAclV2"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
VERSIONING_V2 = "aws:s3/bucketVersioningV2:BucketVersioningV2"
KEY = "aws:kms/key:Key"
REPO = "aws:ecr/repository:Repository"
INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SUBNET = "aws:ec2/subnet:Subnet"
SG = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CRONJOB = "kubernetes:batch/v1:CronJob"
CLUSTER = "gcp:container/cluster:Cluster"
EKS = "aws:eks/cluster:Cluster"
RDS = "aws:rds/instance:Instance"

DIGEST = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/serve@sha256:" + "a" * 64
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
GOOD_CLUSTER: dict[str, Any] = {
    "privateClusterConfig": {"enablePrivateNodes": True},
    "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "203.0.113.0/24"}]},
    "workloadIdentityConfig": {"workloadPool": "p.svc.id.goog"},
    "datapathProvider": "ADVANCED_DATAPATH",
    "enableShieldedNodes": True,
    "deletionProtection": True,
}

GOOD_EKS: dict[str, Any] = {
    "vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
    "enabledClusterLogTypes": ["api", "audit", "authenticator"],
    "encryptionConfig": {"provider": {"keyArn": "arn:aws:kms:us-east-1:123456789012:key/k"}, "resources": ["secrets"]},
    "deletionProtection": True,
}
GOOD_RDS: dict[str, Any] = {"publiclyAccessible": False, "storageEncrypted": True, "backupRetentionPeriod": 7, "deletionProtection": True}

# The rules that hold in prod only; every other rule holds in dev and prod alike.
PROD_ONLY = {"gke-prod-deletion-protection", "eks-prod-deletion-protection", "rds-prod-deletion-protection",
             "prod-data-protected", "prod-public-endpoint-authenticated"}


def violations_of(rule: str, type_: str, inputs: Mapping[str, Any], *, environment: str = "dev") -> list[Violation]:
    """What one rule says about one resource with these inputs."""
    resource = Resource(type=type_, name="r", urn=f"urn:pulumi:dev::mlops::{type_}::r", inputs=inputs)
    return [v for v in evaluate([resource], environment=environment) if v.rule == rule]


def stack_violations(rule: str, resources: Sequence[ResourceView], *, environment: str) -> list[Violation]:
    assert isinstance(RULES_BY_NAME[rule], StackRule)
    return [v for v in evaluate(resources, environment=environment) if v.rule == rule]


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


Cases = Mapping[str, tuple[str, str, Mapping[str, Any]]]
"""case -> (rule, resource type, inputs)."""


class RuleCases:
    """The table tests every group of rules runs: a test module subclasses this with its own tables.

    tests/policy/conftest.py parametrizes each test with the subclass's tables (`parametrize`).
    """

    ACCEPTED: ClassVar[Cases] = {}
    """Inputs each rule accepts."""
    REJECTED: ClassVar[Cases] = {}
    """Inputs each rule rejects."""
    PROD_ONLY_CASES: ClassVar[Mapping[str, str]] = {}
    """Rejected cases whose rule applies in prod only, run with that environment."""
    REJECTED_ON_EVERY_TYPE: ClassVar[Mapping[str, Mapping[str, Mapping[str, Any]]]] = {}
    """rule -> {type: inputs that break the rule on that type}: exactly the types the rule checks."""
    VALUE_CASES: ClassVar[Mapping[str, tuple[str, str, Mapping[str, Any], bool]]] = {}
    """(rule, type, inputs, accepted?) for each value a rule's lists hold."""

    @classmethod
    def parametrize(cls, metafunc: pytest.Metafunc) -> None:
        name = metafunc.function.__name__
        type_cases = [(rule, type_) for rule, by_type in cls.REJECTED_ON_EVERY_TYPE.items() for type_ in by_type]
        if name == "test_rule_accepts_compliant_input":
            metafunc.parametrize("case", list(cls.ACCEPTED))
        elif name == "test_rule_rejects_noncompliant_input":
            metafunc.parametrize("case", list(cls.REJECTED))
        elif name == "test_each_rule_checks_each_of_its_types":
            metafunc.parametrize(("rule", "type_"), type_cases, ids=[f"{r}-{t.rsplit(':', 1)[-1]}" for r, t in type_cases])
        elif name == "test_each_resource_rule_applies_in_the_environments_it_names":
            metafunc.parametrize("rule", sorted(cls.REJECTED_ON_EVERY_TYPE))
            metafunc.parametrize("environment", ["dev", "prod"])
        elif name == "test_each_value_a_rule_lists_is_accepted_or_refused":
            metafunc.parametrize("case", list(cls.VALUE_CASES))

    def test_rule_accepts_compliant_input(self, case: str) -> None:
        rule, type_, inputs = self.ACCEPTED[case]
        assert violations_of(rule, type_, inputs) == []

    def test_rule_rejects_noncompliant_input(self, case: str) -> None:
        rule, type_, inputs = self.REJECTED[case]
        found = violations_of(rule, type_, inputs, environment=self.PROD_ONLY_CASES.get(case, "dev"))
        assert len(found) == 1 and found[0].message

    def test_each_rule_checks_each_of_its_types(self, rule: str, type_: str) -> None:
        # A type the rule skips is a resource of that kind deployed unchecked (a V2 bucket, a CronJob's pods).
        [violation] = violations_of(rule, type_, self.REJECTED_ON_EVERY_TYPE[rule][type_], environment="prod")
        assert violation.rule == rule

    def test_each_resource_rule_applies_in_the_environments_it_names(self, rule: str, environment: str) -> None:
        type_, inputs = next(iter(self.REJECTED_ON_EVERY_TYPE[rule].items()))
        fires = bool(violations_of(rule, type_, inputs, environment=environment))
        assert fires == (environment == "prod" or rule not in PROD_ONLY)

    def test_each_value_a_rule_lists_is_accepted_or_refused(self, case: str) -> None:
        rule, type_, inputs, accepted = self.VALUE_CASES[case]
        assert (violations_of(rule, type_, inputs, environment="prod") == []) == accepted


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
