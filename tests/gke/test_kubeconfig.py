"""How pulumi and kubectl reach the cluster (components/gke/kubeconfig.py): kubeconfig, DNS endpoint, provider."""

from __future__ import annotations

import json

import pytest

from offline.engine import Recording
from tests.gke.support import CLUSTER, EXPECTED_KUBECONFIG, GKE_COMPONENT, K8S_PROVIDER, PROJECT, SECRET_SIGNATURE_KEY, pool


def test_kubeconfig_output_is_secret(prod: Recording) -> None:
    assert "kubeconfig" in prod.secret_outputs


def test_kubeconfig_authenticates_through_gke_gcloud_auth_plugin(prod: Recording) -> None:
    kubeconfig = json.loads(prod.outputs["kubeconfig"])
    [user] = kubeconfig["users"]
    assert set(user["user"]) == {"exec"}, "no token, password or client key in the file"
    assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"


def test_kubeconfig_points_at_the_dns_endpoint(prod: Recording) -> None:
    # The program's own Kubernetes provider uses this file; on the IP endpoint a CI runner
    # (outside the authorized networks) would time out. The DNS endpoint has a publicly
    # trusted certificate, so the cluster CA is not pinned (it would fail verification).
    [entry] = json.loads(prod.outputs["kubeconfig"])["clusters"]
    assert entry["cluster"] == {
        "server": "https://gke-0f1e2d3c4b5a69788796a5b4c3d2e1f0-123456789012.us-central1.gke.goog"
    }


def test_kubernetes_provider_is_built_from_the_secret_kubeconfig(prod: Recording) -> None:
    provider = prod.get(K8S_PROVIDER, "gke-k8s")
    kubeconfig = provider.inputs["kubeconfig"]
    assert kubeconfig[SECRET_SIGNATURE_KEY], "marked secret in state"
    assert json.loads(kubeconfig["value"]) == json.loads(prod.outputs["kubeconfig"])


def test_kubernetes_provider_is_replaced_only_with_the_cluster(prod: Recording) -> None:
    # Without clusterIdentifier, pulumi-kubernetes replaces the provider, and every object
    # on it, when the kubeconfig's server or CA changes: a namespace deleted and recreated.
    provider = prod.get(K8S_PROVIDER, "gke-k8s")
    assert provider.inputs["clusterIdentifier"] == f"gke_{PROJECT}_us-central1-a_mlops-prod"


def test_workloads_wait_for_both_node_pools(prod: Recording) -> None:
    # A workload registered on a cluster with no nodes would only sit Pending.
    dependencies = prod.get(K8S_PROVIDER, "gke-k8s").dependencies
    assert {pool(prod, "cpu").urn, pool(prod, "gpu").urn} <= set(dependencies)


def test_kubeconfig_is_exactly_the_plugin_config_gcloud_writes(prod: Recording) -> None:
    # kubectl needs the context, cluster and user to name each other; the plugin needs the
    # v1beta1 exec API and, on CI, interactiveMode Never (no prompt that hangs a job).
    assert json.loads(prod.outputs["kubeconfig"]) == EXPECTED_KUBECONFIG


def test_kubeconfig_text_is_stable(prod: Recording) -> None:
    # The provider's kubeconfig input is this text: a reformat is a diff on the provider of every stack.
    assert prod.outputs["kubeconfig"] == json.dumps(EXPECTED_KUBECONFIG, indent=2)


def test_kubernetes_provider_takes_exactly_the_kubeconfig_and_cluster_identity(prod: Recording) -> None:
    # No context or namespace option: the kubeconfig's only context and each object's own namespace.
    provider = prod.get(K8S_PROVIDER, "gke-k8s")
    assert set(provider.inputs) == {"kubeconfig", "clusterIdentifier"}
    assert provider.parent == prod.get(GKE_COMPONENT, "gke").urn


def test_kubernetes_provider_waits_for_the_cluster_and_both_pools(prod: Recording) -> None:
    dependencies = set(prod.get(K8S_PROVIDER, "gke-k8s").dependencies)
    assert dependencies == {prod.one(CLUSTER).urn, pool(prod, "cpu").urn, pool(prod, "gpu").urn}


def test_a_cluster_without_a_dns_endpoint_is_refused() -> None:
    # The kubeconfig would point at nothing; fail the run instead.
    from components.gke.kubeconfig import dns_endpoint
    from pulumi_gcp.container.outputs import ClusterControlPlaneEndpointsConfig

    for config in (None, ClusterControlPlaneEndpointsConfig(dns_endpoint_config=None)):
        with pytest.raises(ValueError, match="no DNS endpoint"):
            dns_endpoint(config)
