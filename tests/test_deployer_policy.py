"""docs/deployer-policy.json and docs/deployer-policy-eks.json allow every call `pulumi up`, refresh and destroy
make, and no more than they must.

The deployer gets both managed policies (IAM holds each to 6,144 characters, and one is not enough
for EKS and RDS too); IAM evaluates what is attached together, so the tests check their union.

docs/deployer-actions.json maps each AWS type (and data source) the program uses to the IAM
actions its create, read, update and delete make, from the provider's source. Each run of
the program (every stack, every compute.kind) is checked against it: an unmapped type fails,
and so does any mapped action the policy does not allow for that resource, evaluated with
tests/iam_policy.py (resource ARNs, tags, the boundary, the service a role is passed to).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from typing import Any

import pytest

from offline.engine import ACCOUNT_ID, ROOT, Recording, Registration
from tests.iam_policy import evaluate

POLICY_FILES = ("deployer-policy.json", "deployer-policy-eks.json")
DOCUMENTS = [json.loads((ROOT / "docs" / name).read_text()) for name in POLICY_FILES]
POLICY = {"Version": "2012-10-17", "Statement": [s for document in DOCUMENTS for s in document["Statement"]]}
"""What the deployer may do: the statements of both managed policies, as IAM evaluates them together."""
ACTIONS = json.loads((ROOT / "docs" / "deployer-actions.json").read_text())
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT_ID}:policy/mlops/mlops-workload-boundary"
EKS_BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT_ID}:policy/mlops/mlops-eks-service-boundary"
EKS_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/eks/mlops-prod-aws-eks-cluster"
PHASES = ("create", "read", "update", "delete")
RECORDINGS = ("dev", "prod", "prod_on_aws", "dev_cluster_training", "prod_aws")


class Resolver:
    """ARNs, tags and the IAM condition context of what one recording registered."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.by_urn = {r.urn: r for r in recording.resources}

    def provider(self, reg: Registration) -> Registration:
        return self.by_urn[reg.provider.rsplit("::", 1)[0]]

    def region(self, reg: Registration) -> str:
        return self.provider(reg).inputs["region"]

    def tags(self, reg: Registration) -> dict[str, str]:
        defaults = json.loads(self.provider(reg).inputs.get("defaultTags", "{}")).get("tags", {})
        return {**defaults, **reg.inputs.get("tags", {})}

    def arn(self, reg: Registration) -> str:
        template = ACTIONS["types"][reg.type]["arn"]
        if owner := self.owner(reg):  # {bucket.arn}: the resource is a setting of another one
            return self.arn(owner)
        values = {"account": ACCOUNT_ID, "region": self.region(reg), "id": reg.id, "path": "/", **reg.state}
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m[1]]), template)

    def owner(self, reg: Registration) -> Registration | None:
        """The resource whose ARN IAM checks for a settings resource (a bucket's policy, a role's policy)."""
        match = re.fullmatch(r"\{(\w+)\.arn\}", ACTIONS["types"][reg.type]["arn"])
        return self.related(reg, match[1]) if match else None

    def find(self, type_: str, **match: Any) -> Registration:
        found = [r for r in self.recording.of_type(type_) if any(r.state.get(k) == v or r.id == v for k, v in match.items())]
        if len(found) != 1:
            raise LookupError(f"no single {type_} with {match}: {[r.name for r in found]}")
        return found[0]

    def related(self, reg: Registration, target: str) -> Registration:
        inputs = reg.inputs
        if target == "bucket":
            return self.find("aws:s3/bucket:Bucket", bucket=inputs["bucket"])
        if target == "role":
            return self.find("aws:iam/role:Role", name=inputs["role"], arn=inputs["role"])
        if target == "user":
            return self.find("aws:iam/user:User", name=inputs["user"])
        if target == "repository":
            return self.find("aws:ecr/repository:Repository", name=inputs["repository"])
        if target == "key":
            key = inputs.get("targetKeyId") or inputs.get("kmsKeyId") or _encryption_key(inputs)
            return self.find("aws:kms/key:Key", keyId=key, arn=key)
        if target == "cluster":
            return self.find("aws:eks/cluster:Cluster", name=inputs["clusterName"])
        if target == "nodeRole":
            return self.find("aws:iam/role:Role", arn=inputs["computeConfig"]["nodeRoleArn"])
        if target == "topic":
            return self.find("aws:sns/topic:Topic", arn=inputs.get("topic") or inputs["arn"])
        if target == "rule":
            return self.find("aws:cloudwatch/eventRule:EventRule", name=inputs["rule"])
        if target == "passedRole":
            return self.passed_role(reg)
        raise KeyError(f"unknown target {target!r} in docs/deployer-actions.json")

    def passed_role(self, reg: Registration) -> Registration:
        """The role a resource hands to a service, which iam:PassRole checks."""
        role = "aws:iam/role:Role"
        if reg.type == "aws:iam/instanceProfile:InstanceProfile":
            return self.find(role, name=reg.inputs["role"])
        if reg.type == "aws:batch/computeEnvironment:ComputeEnvironment":
            profile = self.find("aws:iam/instanceProfile:InstanceProfile", arn=reg.inputs["computeResources"]["instanceRole"])
            return self.find(role, name=profile.inputs["role"])
        if reg.type == "aws:batch/jobDefinition:JobDefinition":
            return self.find(role, arn=json.loads(reg.inputs["containerProperties"])["jobRoleArn"])
        if reg.type == "aws:scheduler/schedule:Schedule":
            return self.find(role, arn=reg.inputs["target"]["roleArn"])
        if reg.type in ("aws:eks/cluster:Cluster", "aws:eks/podIdentityAssociation:PodIdentityAssociation"):
            return self.find(role, arn=reg.inputs["roleArn"])
        return self.find(role, arn=reg.inputs["role"])

    def request(self, reg: Registration, phase: str, index: int, entry: str) -> tuple[str, str, dict[str, Any]]:
        """(action, resource ARN, condition context) of one mapped call."""
        action, _, target = entry.partition(" ")
        context: dict[str, Any] = {"aws:RequestedRegion": self.region(reg)}
        if phase in ("create", "update"):
            context |= {f"aws:RequestTag/{k}": v for k, v in self.tags(reg).items()}
        if target == "*":
            return action, "*", context
        if target == "objects":
            return action, self.arn(reg) + "/*", context
        if target in SERVICE_LINKED_ROLES:
            service, role = SERVICE_LINKED_ROLES[target]
            context["iam:AWSServiceName"] = service
            return action, f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/{service}/{role}", context
        if target:
            subject = self.related(reg, target)
        else:
            subject = self.owner(reg) or reg
        creating = phase == "create" and index == 0 and subject is reg
        if not creating:
            context |= {f"aws:ResourceTag/{k}": v for k, v in self.tags(subject).items()}
        if subject.type in ("aws:iam/role:Role", "aws:iam/user:User") and "permissionsBoundary" in subject.inputs:
            context["iam:PermissionsBoundary"] = subject.inputs["permissionsBoundary"]
        if "policyArn" in reg.inputs:
            context["iam:PolicyARN"] = reg.inputs["policyArn"]
        if action == "iam:PassRole":
            context["iam:PassedToService"] = trusted_service(subject)
        return action, self.arn(subject), context


SERVICE_LINKED_ROLES = {
    "batchServiceLinkedRole": ("batch.amazonaws.com", "AWSServiceRoleForBatch"),
    "eksServiceLinkedRole": ("eks.amazonaws.com", "AWSServiceRoleForAmazonEKS"),
    "rdsServiceLinkedRole": ("rds.amazonaws.com", "AWSServiceRoleForRDS"),
}
"""The service-linked roles a service makes on first use, as the caller must be allowed to."""
INVOKE_TARGETS = {"*": "*", "deployingRole": f"arn:aws:iam::{ACCOUNT_ID}:role/github-actions-deploy"}
"""What a data source's call acts on: nothing in particular, or the deploying session's own role (any
path: it is not the program's)."""


def _encryption_key(inputs: dict[str, Any]) -> str:
    """The key of an ECR repository's encryption configuration, or of an EKS cluster's Secrets."""
    if "encryptionConfigurations" in inputs:
        return inputs["encryptionConfigurations"][0]["kmsKey"]
    return inputs["encryptionConfig"]["provider"]["keyArn"]


def trusted_service(role: Registration) -> str:
    [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    return statement["Principal"]["Service"]


def unmapped_types(recording: Recording) -> set[str]:
    used = {r.type for r in recording.resources if r.type.startswith("aws:")}
    invoked = {token for token, _ in recording.invokes if token.startswith("aws:")}
    return (used - ACTIONS["types"].keys()) | (invoked - ACTIONS["invokes"].keys())


def denied_calls(policy: dict[str, Any], recording: Recording) -> list[str]:
    """Every mapped call of every registered resource and invoke that `policy` would refuse."""
    resolver = Resolver(recording)
    denied: list[str] = []
    for reg in recording.resources:
        if not reg.type.startswith("aws:"):
            continue
        for phase in PHASES:
            for index, entry in enumerate(ACTIONS["types"][reg.type][phase]):
                action, resource, context = resolver.request(reg, phase, index, entry)
                if evaluate(policy, action, resource, context) != "allow":
                    denied.append(f"{reg.type} {reg.name} {phase}: {action} on {resource}")
    for token in sorted({t for t, _ in recording.invokes if t.startswith("aws:")}):
        for entry in ACTIONS["invokes"][token]["actions"]:
            action, _, target = entry.partition(" ")
            if evaluate(policy, action, INVOKE_TARGETS[target], {"aws:RequestedRegion": "us-east-1"}) != "allow":
                denied.append(f"{token}: {action}")
    return denied


@pytest.mark.parametrize("stack", RECORDINGS)
def test_every_aws_type_the_program_uses_is_mapped(request: pytest.FixtureRequest, stack: str) -> None:
    # An unmapped type is one whose calls nobody checked: the first real `up` may stop on it.
    assert unmapped_types(request.getfixturevalue(stack)) == set()


@pytest.mark.parametrize("stack", RECORDINGS)
def test_policy_allows_every_call_of_create_read_update_delete(request: pytest.FixtureRequest, stack: str) -> None:
    # A refused call stops `pulumi up`, refresh or destroy half way, with AccessDenied.
    assert denied_calls(POLICY, request.getfixturevalue(stack)) == []


def test_removing_one_mapped_action_is_reported(dev: Recording) -> None:
    # The check above must see a single missing action, not only a missing service.
    weakened = copy.deepcopy(POLICY)
    [users] = [s for s in weakened["Statement"] if s["Sid"] == "ProjectUsers"]
    users["Action"].remove("iam:ListAccessKeys")
    calls = [
        f"{type_} {name} {step}: iam:ListAccessKeys on arn:aws:iam::{ACCOUNT_ID}:user/mlops/{user}"
        for user, prefix in (
            ("mlops-dev-iris-server", "serving-iris-identity"),
            ("mlops-dev-renew-pull-secret", "pull-secret-renewer-identity"),
            ("mlops-dev-alertmanager-sns", "monitoring-sns-publisher"),
            ("mlops-dev-airflow", "airflow-identity"),
            ("mlops-dev-renew-airflow-pull-secret", "airflow-pull-secret-renewer-identity"),
        )
        for type_, name, step in (
            ("aws:iam/user:User", f"{prefix}-user", "delete"),
            ("aws:iam/accessKey:AccessKey", f"{prefix}-key", "create"),
            ("aws:iam/accessKey:AccessKey", f"{prefix}-key", "read"),
        )
    ]
    assert sorted(denied_calls(weakened, dev)) == sorted(calls)


def test_an_unmapped_type_is_reported(dev: Recording) -> None:
    extra = dataclasses.replace(dev.resources[0], type="aws:lambda/function:Function", name="new-function")
    assert unmapped_types(Recording(resources=[*dev.resources, extra], invokes=dev.invokes)) == {"aws:lambda/function:Function"}


def test_a_role_without_the_boundary_cannot_be_created() -> None:
    # The boundary is what keeps the deployer from minting an admin role.
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/anything"
    assert evaluate(POLICY, "iam:CreateRole", role, {}) == "deny"
    other = {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT_ID}:policy/AdministratorAccess"}
    assert evaluate(POLICY, "iam:CreateRole", role, other) == "deny"
    assert evaluate(POLICY, "iam:CreateRole", role, {"iam:PermissionsBoundary": BOUNDARY_ARN}) == "allow"


def test_the_eks_service_boundary_is_given_only_on_its_path() -> None:
    # The two roles Auto Mode acts as: what their managed policies need, and nothing past it, on /mlops/eks/ only.
    eks = {"iam:PermissionsBoundary": EKS_BOUNDARY_ARN}
    for action in ("iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"):
        assert evaluate(POLICY, action, EKS_ROLE, eks) == "allow"
        assert evaluate(POLICY, action, f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/mlops-prod-aws-iris-server", eks) == "implicit-deny"
    admin = {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT_ID}:policy/AdministratorAccess"}
    assert evaluate(POLICY, "iam:CreateRole", EKS_ROLE, admin) == "deny"
    assert evaluate(POLICY, "iam:CreateRole", EKS_ROLE, {}) == "deny"
    # A user never gets it: only roles are Auto Mode's.
    assert evaluate(POLICY, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT_ID}:user/mlops/eks/x", eks) == "implicit-deny"


def test_the_boundaries_can_be_neither_removed_nor_edited() -> None:
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/anything"
    assert evaluate(POLICY, "iam:DeleteRolePermissionsBoundary", role, {}) == "deny"
    assert evaluate(POLICY, "iam:DeleteRolePermissionsBoundary", EKS_ROLE, {}) == "deny"
    assert evaluate(POLICY, "iam:DeleteUserPermissionsBoundary", f"arn:aws:iam::{ACCOUNT_ID}:user/mlops/x", {}) == "deny"
    assert evaluate(POLICY, "iam:CreatePolicyVersion", BOUNDARY_ARN, {}) == "deny"
    assert evaluate(POLICY, "iam:CreatePolicyVersion", EKS_BOUNDARY_ARN, {}) == "deny"
    assert evaluate(POLICY, "iam:SetDefaultPolicyVersion", EKS_BOUNDARY_ARN, {}) == "deny"


def test_roles_outside_the_project_path_are_out_of_reach() -> None:
    admin = f"arn:aws:iam::{ACCOUNT_ID}:role/OrganizationAccountAccessRole"
    assert evaluate(POLICY, "iam:PutRolePolicy", admin, {"iam:PermissionsBoundary": BOUNDARY_ARN}) == "implicit-deny"
    assert evaluate(POLICY, "iam:PassRole", admin, {"iam:PassedToService": "ec2.amazonaws.com"}) == "implicit-deny"


def test_roles_are_passed_only_to_the_services_they_serve() -> None:
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/training-job-role-1234567"
    assert evaluate(POLICY, "iam:PassRole", role, {"iam:PassedToService": "ecs-tasks.amazonaws.com"}) == "allow"
    assert evaluate(POLICY, "iam:PassRole", role, {"iam:PassedToService": "lambda.amazonaws.com"}) == "implicit-deny"


def test_keys_are_usable_only_when_tagged_for_the_project() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert evaluate(POLICY, "kms:Decrypt", key, {"aws:ResourceTag/project": "mlops"}) == "allow"
    assert evaluate(POLICY, "kms:Decrypt", key, {"aws:ResourceTag/project": "billing"}) == "implicit-deny"
    assert evaluate(POLICY, "kms:CreateKey", "*", {}) == "implicit-deny"
    assert evaluate(POLICY, "kms:CreateKey", "*", {"aws:RequestTag/project": "mlops"}) == "allow"


@pytest.mark.parametrize("name", POLICY_FILES)
def test_each_policy_fits_a_managed_policy(name: str) -> None:
    # IAM refuses a managed policy over 6,144 characters, whitespace not counted.
    text = (ROOT / "docs" / name).read_text()
    assert len(re.sub(r"\s", "", text)) <= 6144


def test_the_two_policies_share_no_statement_id() -> None:
    sids = [s["Sid"] for s in POLICY["Statement"]]
    assert len(sids) == len(set(sids))


# --- Airflow's database on RDS, as components/pipeline/rds.py registers it ----------------------


@pytest.fixture(scope="module")
def rds_database(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    from tests.pipeline.test_rds import PROD, database_alone

    return database_alone(tmp_path_factory.mktemp("deployer-rds"), PROD)


def test_every_aws_type_of_the_database_is_mapped(rds_database: Recording) -> None:
    assert unmapped_types(rds_database) == set()


def test_the_policies_allow_every_call_of_the_database(rds_database: Recording) -> None:
    assert denied_calls(POLICY, rds_database) == []


def test_without_the_eks_policy_the_database_cannot_be_made(rds_database: Recording) -> None:
    # The split is real: the first policy alone refuses the RDS calls.
    denied = denied_calls(DOCUMENTS[0], rds_database)
    assert "aws:rds/instance:Instance airflow-db create: rds:CreateDBInstance on arn:aws:rds:us-east-1:123456789012:db:mlops-test-airflow-db" in denied


def test_only_the_auto_mode_managed_policies_may_be_attached() -> None:
    compute = "arn:aws:iam::aws:policy/AmazonEKSComputePolicy"
    bounded = {"iam:PermissionsBoundary": EKS_BOUNDARY_ARN}
    assert evaluate(POLICY, "iam:AttachRolePolicy", EKS_ROLE, {**bounded, "iam:PolicyARN": compute}) == "allow"
    admin = {**bounded, "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert evaluate(POLICY, "iam:AttachRolePolicy", EKS_ROLE, admin) == "implicit-deny"
    unbounded = {"iam:PolicyARN": compute}
    assert evaluate(POLICY, "iam:AttachRolePolicy", EKS_ROLE, unbounded) == "implicit-deny"
    # Not to a workload's role (its boundary would cut them to nothing), nor anywhere but /mlops/eks/.
    workload = {"iam:PermissionsBoundary": BOUNDARY_ARN, "iam:PolicyARN": compute}
    assert evaluate(POLICY, "iam:AttachRolePolicy", EKS_ROLE, workload) == "implicit-deny"
    elsewhere = f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/mlops-prod-aws-eks-cluster"
    assert evaluate(POLICY, "iam:AttachRolePolicy", elsewhere, {**bounded, "iam:PolicyARN": compute}) == "implicit-deny"


def test_roles_are_passed_to_eks_and_pod_identity_only_as_project_roles() -> None:
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/mlops/mlops-prod-aws-iris-server"
    for service in ("eks.amazonaws.com", "pods.eks.amazonaws.com"):
        assert evaluate(POLICY, "iam:PassRole", role, {"iam:PassedToService": service}) == "allow"
    outside = f"arn:aws:iam::{ACCOUNT_ID}:role/OrganizationAccountAccessRole"
    assert evaluate(POLICY, "iam:PassRole", outside, {"iam:PassedToService": "pods.eks.amazonaws.com"}) == "implicit-deny"


def test_clusters_and_databases_outside_the_project_are_out_of_reach() -> None:
    assert evaluate(POLICY, "eks:DeleteCluster", f"arn:aws:eks:us-east-1:{ACCOUNT_ID}:cluster/payments", {}) == "implicit-deny"
    assert evaluate(POLICY, "rds:DeleteDBInstance", f"arn:aws:rds:us-east-1:{ACCOUNT_ID}:db:payments", {}) == "implicit-deny"
    assert evaluate(POLICY, "eks:DeleteCluster", f"arn:aws:eks:us-east-1:{ACCOUNT_ID}:cluster/mlops-prod-aws", {}) == "allow"
