"""The workloads' namespace (components/namespace.py): locked down before anything runs in it."""

from __future__ import annotations

import json

import pytest

from components import namespace
from offline.engine import Recording
from offline.values import is_secret
from tests.manifests import manifest, of_kind

NAMESPACE = "kubernetes:core/v1:Namespace"


@pytest.mark.parametrize(("stack", "name"), [("dev", "mlops-dev"), ("prod", "mlops-prod")])
def test_namespace_enforces_warns_and_audits_the_latest_restricted_standard(request: pytest.FixtureRequest, stack: str, name: str) -> None:
    # Without enforce the API server admits a privileged pod; a pinned version would miss newer checks.
    [ns] = of_kind(request.getfixturevalue(stack), "Namespace")
    assert ns["metadata"] == {
        "name": name,
        "labels": {
            "app.kubernetes.io/part-of": "mlops",
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        },
    }


def test_default_deny_covers_every_pod_both_ways(dev: Recording) -> None:
    # An empty podSelector is every pod; without "Egress" here a compromised pod reaches anything.
    deny = manifest(dev, "NetworkPolicy", "default-deny")
    assert deny["metadata"] == {"name": "default-deny", "namespace": "mlops-dev"}
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_egress_opens_dns_and_https_for_every_pod(prod: Recording) -> None:
    # Without DNS no pod resolves S3 or STS; without 443 none reaches them.
    egress = manifest(prod, "NetworkPolicy", "allow-dns-and-https-egress")
    assert egress["metadata"] == {"name": "allow-dns-and-https-egress", "namespace": "mlops-prod"}
    assert egress["spec"] == {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
            {"ports": [{"protocol": "TCP", "port": 443}]},
        ],
    }


def test_the_pull_secret_is_a_docker_config_for_the_registry(dev: Recording) -> None:
    # The kubelet reads only kubernetes.io/dockerconfigjson Secrets as pull secrets.
    pull = manifest(dev, "Secret", namespace.PULL_SECRET)
    assert (pull["metadata"], pull["type"]) == ({"name": "registry-pull", "namespace": "mlops-dev"}, "kubernetes.io/dockerconfigjson")
    assert list(pull["stringData"]) == [".dockerconfigjson"]
    assert set(json.loads(pull["stringData"][".dockerconfigjson"])["auths"]) == {"123456789012.dkr.ecr.us-east-1.amazonaws.com"}
    assert is_secret(dev.named("workloads-pull").inputs["stringData"])


@pytest.mark.parametrize("stack", ["dev", "prod_on_aws"])
def test_a_renewed_pull_secret_data_is_left_to_the_renewer(request: pytest.FixtureRequest, stack: str) -> None:
    # Both keys: the API server returns the token under `data`, so ignoring only stringData still diffs.
    assert request.getfixturevalue(stack).named("workloads-pull").ignore_changes == ("stringData", "data")


def test_gke_nodes_pull_themselves_so_prod_has_no_pull_secret(prod: Recording) -> None:
    with pytest.raises(LookupError):
        manifest(prod, "Secret", namespace.PULL_SECRET)


@pytest.mark.parametrize("child", ["workloads-default-deny", "workloads-egress", "workloads-pull"])
def test_namespace_objects_wait_for_the_namespace(dev: Recording, child: str) -> None:
    # Created before it, each fails with "namespaces not found" on the first `up`.
    created = dev.named(child)
    assert dev.get(NAMESPACE, "workloads").urn in created.dependencies
    assert created.parent == dev.get("mlops:kubernetes:WorkloadNamespace", "workloads").urn


def test_namespace_is_a_child_of_its_component(dev: Recording) -> None:
    # A parent change is a URN change: Pulumi would delete the namespace, and everything in it.
    assert dev.get(NAMESPACE, "workloads").parent == dev.get("mlops:kubernetes:WorkloadNamespace", "workloads").urn
    assert dev.outputs["servingNamespace"] == "mlops-dev"
