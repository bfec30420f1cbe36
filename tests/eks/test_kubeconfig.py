"""How pulumi and kubectl reach the EKS cluster: a kubeconfig without a credential, signed in by
`aws eks get-token`, and a provider replaced only with a new cluster."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.eks import kubeconfig_for
from offline.engine import MOCK_EKS_CREATED_AT, MOCK_GKE_CA, Recording
from offline.values import reveal
from tests.eks.support import K8S_PROVIDER

ENDPOINT = "https://0F1E2D3C4B5A69788796A5B4C3D2E1F0.gr7.us-east-1.eks.amazonaws.com"


@pytest.fixture(scope="module")
def kubeconfig(prod_aws: Recording) -> dict[str, Any]:
    return json.loads(reveal(prod_aws.outputs["kubeconfig"]))


def test_the_kubeconfig_points_at_the_clusters_endpoint_and_ca(kubeconfig: dict[str, Any]) -> None:
    assert kubeconfig["clusters"] == [
        {"name": "mlops-prod-aws", "cluster": {"server": ENDPOINT, "certificate-authority-data": MOCK_GKE_CA}}
    ]
    assert kubeconfig["current-context"] == "mlops-prod-aws"


def test_the_kubeconfig_signs_in_with_aws_eks_get_token_for_this_cluster(kubeconfig: dict[str, Any]) -> None:
    [user] = kubeconfig["users"]
    assert user["user"] == {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", "mlops-prod-aws", "--region", "us-east-1", "--output", "json"],
            "installHint": "Install the AWS CLI v2 (see README, Prod on AWS (EKS))",
            "interactiveMode": "Never",
        }
    }


def test_the_kubeconfig_is_a_secret_output(prod_aws: Recording) -> None:
    assert "kubeconfig" in prod_aws.secret_outputs


def test_the_provider_uses_it_and_is_replaced_only_with_a_new_cluster(prod_aws: Recording) -> None:
    provider = prod_aws.get(K8S_PROVIDER, "eks-k8s")
    assert json.loads(reveal(provider.inputs["kubeconfig"]))["clusters"][0]["cluster"]["server"] == ENDPOINT
    assert provider.inputs["clusterIdentifier"] == MOCK_EKS_CREATED_AT


def test_the_commands_name_the_clusters_context(prod_aws: Recording) -> None:
    assert prod_aws.outputs["projects"]["iris"]["portForwardCommand"] == (
        "kubectl --context mlops-prod-aws port-forward -n mlops-prod-aws service/iris-server 8080:8080"
    )


def test_the_cluster_outputs_are_its_name_endpoint_and_kubeconfig(prod_aws: Recording) -> None:
    assert (prod_aws.outputs["clusterName"], prod_aws.outputs["clusterEndpoint"]) == ("mlops-prod-aws", ENDPOINT)
    assert "clusterIssuer" not in prod_aws.outputs, "Pod Identity needs no OIDC issuer"


def test_a_kubeconfig_holds_no_credential() -> None:
    text = kubeconfig_for(context="c", endpoint="https://e", certificate_authority="Q0E=", cluster_name="c", region="eu-west-1")
    assert "token" not in text.replace("get-token", "") and "password" not in text and "client-key" not in text
    assert json.loads(text)["users"][0]["user"]["exec"]["args"][-3:] == ["eu-west-1", "--output", "json"]
