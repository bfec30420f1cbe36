"""policy/rules/catalog.py: the one list of rules (names, severities, order, types) and `evaluate` on the real stacks.

Each group's cases live beside its tests (tests/policy/test_<group>.py); here they are
checked to cover every rule of the list.
"""

from __future__ import annotations

from offline.engine import Recording
from policy.rules import RULES, RULES_BY_NAME, ResourceRule, StackRule, Violation, evaluate, mandatory
from tests.policy import (
    test_cluster, test_compute, test_data, test_database, test_eks, test_identity, test_messaging, test_pipeline, test_pods,
    test_registry,
)
from tests.policy.support import DEPLOYMENT, SSE, bucket_with_guards, pod, stack_violations, violations_of

# Each group's case tables (imported by module, so that pytest does not collect their tests twice).
GROUPS = (test_data.TestDataRules, test_registry.TestRegistryRules, test_messaging.TestMessagingRules,
          test_compute.TestComputeRules, test_identity.TestIdentityRules, test_pods.TestPodRules,
          test_pipeline.TestPipelineRules, test_cluster.TestClusterRules, test_eks.TestEksRules, test_database.TestDatabaseRules)
ACCEPTED = {case: entry for group in GROUPS for case, entry in group.ACCEPTED.items()}
REJECTED = {case: entry for group in GROUPS for case, entry in group.REJECTED.items()}
REJECTED_ON_EVERY_TYPE = {rule: by_type for group in GROUPS for rule, by_type in group.REJECTED_ON_EVERY_TYPE.items()}


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


def test_dev_stack_has_no_mandatory_violation(dev: Recording) -> None:
    assert mandatory(evaluate(dev.resources, environment="dev")) == []


def test_prod_stack_has_no_mandatory_violation(prod: Recording) -> None:
    assert mandatory(evaluate(prod.resources, environment="prod")) == []


def test_prod_aws_stack_has_no_violation_at_all(prod_aws: Recording, prod_aws_gpu: Recording) -> None:
    # The EKS and RDS rules on the real stack file (and its GPU variant's NodePool), advisories included.
    for recording in (prod_aws, prod_aws_gpu):
        assert [(v.rule, v.urn) for v in evaluate(recording.resources, environment="prod")] == []


def test_the_type_table_names_exactly_the_types_each_rule_checks() -> None:
    # So that the groups' type tables cannot miss a type, and a type dropped from a rule shows here too.
    resource_rules = {rule.name: set(rule.types) for rule in RULES if isinstance(rule, ResourceRule)}
    assert resource_rules == {rule: set(by_type) for rule, by_type in REJECTED_ON_EVERY_TYPE.items()}


SEVERITY = {
    "s3-encryption": "mandatory", "s3-bucket-key": "advisory", "s3-public-access-block": "mandatory",
    "s3-tls-only": "mandatory", "s3-no-public-policy": "mandatory", "s3-ownership-enforced": "mandatory",
    "s3-no-public-acl": "mandatory", "s3-versioning": "mandatory", "s3-bucket-guarded": "mandatory",
    "prod-data-protected": "mandatory", "ecr-immutable-tags": "mandatory", "ecr-scan-on-push": "mandatory",
    "kms-key-rotation": "mandatory", "sns-topic-encrypted": "mandatory", "sqs-queue-encrypted": "mandatory",
    "ec2-imdsv2": "mandatory", "ec2-instance-no-public-ip": "mandatory",
    "ec2-no-public-ip-on-launch": "advisory", "ec2-encrypted-volumes": "mandatory",
    "ec2-no-internet-ingress": "mandatory", "ec2-no-ssh-ingress": "mandatory", "iam-no-wildcard-action": "mandatory",
    "iam-no-wildcard-resource": "mandatory", "iam-no-admin-policy": "mandatory", "k8s-run-as-non-root": "mandatory",
    "k8s-no-privilege-escalation": "mandatory", "k8s-read-only-root-filesystem": "mandatory",
    "k8s-drop-all-capabilities": "mandatory", "k8s-seccomp-runtime-default": "mandatory",
    "k8s-resource-limits": "mandatory", "k8s-image-digest": "mandatory", "k8s-no-privileged-or-host": "mandatory",
    "airflow-release-hardened": "mandatory", "gke-private-nodes": "mandatory", "gke-control-plane-not-open": "mandatory", "gke-workload-identity": "mandatory",
    "gke-network-policy-enforced": "mandatory", "gke-shielded-nodes": "mandatory",
    "gke-prod-deletion-protection": "mandatory", "eks-endpoint-not-open": "mandatory",
    "eks-control-plane-logs": "mandatory", "eks-secrets-encrypted": "mandatory", "eks-prod-deletion-protection": "mandatory",
    "rds-not-public": "mandatory", "rds-storage-encrypted": "mandatory", "rds-backups": "mandatory",
    "rds-prod-deletion-protection": "mandatory", "prod-public-endpoint-authenticated": "mandatory",
    "public-endpoint-authenticated": "advisory",
}


def test_each_rule_has_its_severity_in_its_order() -> None:
    # A mandatory rule turned advisory lets `pulumi up` through; the order is the report's order.
    assert [(rule.name, rule.severity) for rule in RULES] == list(SEVERITY.items())


def test_the_severity_of_a_violation_is_its_rule_severity() -> None:
    [advisory] = violations_of("s3-bucket-key", SSE, REJECTED_ON_EVERY_TYPE["s3-bucket-key"][SSE])
    [blocking] = violations_of("s3-encryption", SSE, {"rules": []})
    assert (advisory.severity, blocking.severity, mandatory([advisory, blocking])) == ("advisory", "mandatory", [blocking])


def test_the_environment_rules_are_the_prod_protections_and_the_endpoint_pair() -> None:
    # The stack rules' environments are pinned by their own tests (prod data, ENDPOINT_CASES).
    stack_rules = {rule.name for rule in RULES if isinstance(rule, StackRule)}
    assert stack_rules == {"s3-bucket-guarded", "prod-data-protected", "prod-public-endpoint-authenticated",
                           "public-endpoint-authenticated"}
    assert stack_violations("prod-data-protected", bucket_with_guards(protect=False), environment="staging") == []


def test_a_violation_names_its_rule_resource_and_what_to_set() -> None:
    [violation] = violations_of("k8s-no-privileged-or-host", DEPLOYMENT, pod(hostNetwork=True, hostPID=True, hostIPC=True))
    assert violation == Violation("k8s-no-privileged-or-host", "mandatory", f"urn:pulumi:dev::mlops::{DEPLOYMENT}::r",
                                  "the pod shares the node's namespaces: hostNetwork, hostPID, hostIPC")

