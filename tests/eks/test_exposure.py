"""Serving on EKS: an internal Network Load Balancer of Auto Mode's class by default; an
internet-facing one only with eks.publicEndpoint, and then each server requires its bearer token."""

from __future__ import annotations

from offline.engine import Recording
from tests.manifests import container, manifest

SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
TARGETS = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"


def test_the_serving_service_is_an_internal_nlb_to_the_pods(prod_aws: Recording) -> None:
    service = manifest(prod_aws, "Service", "iris-server")
    assert (service["spec"]["type"], service["spec"]["loadBalancerClass"]) == ("LoadBalancer", "eks.amazonaws.com/nlb")
    assert (service["metadata"]["annotations"][SCHEME], service["metadata"]["annotations"][TARGETS]) == ("internal", "ip")


def test_an_internal_endpoint_needs_no_token(prod_aws: Recording) -> None:
    assert "servingTokens" not in prod_aws.outputs
    assert all(e["name"] != "MLOPS_AUTH_TOKEN" for e in container(manifest(prod_aws, "Deployment", "iris-server"))["env"])


def test_a_public_endpoint_is_internet_facing_behind_the_token(prod_aws_public: Recording) -> None:
    service = manifest(prod_aws_public, "Service", "iris-server")
    assert service["metadata"]["annotations"][SCHEME] == "internet-facing"
    env = {e["name"]: e for e in container(manifest(prod_aws_public, "Deployment", "iris-server"))["env"]}
    assert env["MLOPS_AUTH_TOKEN"]["valueFrom"] == {"secretKeyRef": {"name": "iris-server-token", "key": "token"}}
    assert "servingTokens" in prod_aws_public.secret_outputs
