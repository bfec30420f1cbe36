"""Who may use the cluster's API: the deploying identity as cluster admin, CI's preview role as a
reader of everything (Secrets and custom resources included), nobody else."""

from __future__ import annotations

import pytest
from pulumi.runtime import MockCallArgs

from offline.engine import ACCOUNT_ID, Recording, RecordingMocks
from tests.eks.support import ACCESS_ENTRY, ACCESS_POLICY, K8S_PROVIDER
from tests.support import RunWith

CI_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/ci/mlops-preview"
POLICIES = "arn:aws:eks::aws:cluster-access-policy"


def grants(recording: Recording) -> dict[str, tuple[str, str]]:
    """principal -> (access policy, scope), from the policy associations."""
    return {
        a.inputs["principalArn"]: (str(a.inputs["policyArn"]).removeprefix(f"{POLICIES}/"), a.inputs["accessScope"]["type"])
        for a in recording.of_type(ACCESS_POLICY)
    }


def test_the_deployer_is_cluster_admin_and_no_one_else_has_access(prod_aws: Recording) -> None:
    # The offline caller is an IAM user; its ARN is its own issuer.
    assert grants(prod_aws) == {f"arn:aws:iam::{ACCOUNT_ID}:user/offline": ("AmazonEKSClusterAdminPolicy", "cluster")}
    [entry] = prod_aws.of_type(ACCESS_ENTRY)
    assert (entry.inputs["principalArn"], entry.inputs["type"], entry.inputs["clusterName"]) == (
        f"arn:aws:iam::{ACCOUNT_ID}:user/offline", "STANDARD", "mlops-prod-aws"
    )


def test_the_deployer_is_found_through_its_session_context(prod_aws: Recording) -> None:
    # An assumed-role session ARN cannot be an access entry's principal: its role's can.
    [(_, args)] = [call for call in prod_aws.invokes if call[0] == "aws:iam/getSessionContext:getSessionContext"]
    assert args == {"arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline"}


def test_ci_reads_every_object_and_changes_none(run_with: RunWith) -> None:
    recording = run_with("prod-aws", **{"mlops:eks": {"ciRoleArn": CI_ROLE}})
    assert grants(recording)[CI_ROLE] == ("AmazonEKSAdminViewPolicy", "cluster")
    assert len(recording.of_type(ACCESS_ENTRY)) == 2


def test_the_provider_waits_for_the_deployers_access(prod_aws: Recording) -> None:
    # Without the association the API server answers the first object with 401.
    provider = prod_aws.get(K8S_PROVIDER, "eks-k8s")
    assert prod_aws.get(ACCESS_POLICY, "eks-deployer-policy").urn in provider.dependencies


@pytest.mark.parametrize(
    ("caller", "issuer"),
    [
        (f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/mlops-deploy/run-42", f"arn:aws:iam::{ACCOUNT_ID}:role/mlops-deploy"),
        (f"arn:aws:iam::{ACCOUNT_ID}:user/alice", f"arn:aws:iam::{ACCOUNT_ID}:user/alice"),
    ],
)
def test_the_offline_session_context_maps_a_session_to_its_role(caller: str, issuer: str) -> None:
    # The mock answers as the AWS provider's data source does; the program relies on it above.
    answer, _ = RecordingMocks("us-east-1").call(
        MockCallArgs(token="aws:iam/getSessionContext:getSessionContext", args={"arn": caller}, provider="")
    )
    assert answer["issuerArn"] == issuer
