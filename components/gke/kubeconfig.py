"""How pulumi and kubectl reach the GKE cluster: its DNS endpoint, a kubeconfig with no credential, the provider."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s


def kubeconfig_for(*, name: str, dns_endpoint: str) -> str:
    """A kubeconfig for the cluster's DNS-based endpoint that authenticates with `gke-gcloud-auth-plugin`.

    The DNS endpoint is reachable from anywhere (a CI runner too) and admits only callers whose
    IAM identity holds `container.clusters.connect`. It presents a publicly trusted certificate,
    not one from the cluster's CA, so the file pins no CA (as `gcloud container clusters
    get-credentials --dns-endpoint` writes it). It holds no credential: the plugin fetches a
    short-lived token from the caller's gcloud login or application-default credentials on each
    use. JSON is valid YAML.
    """
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": f"https://{dns_endpoint}"}}],
            "users": [
                {
                    "name": name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "gke-gcloud-auth-plugin",
                            "installHint": "Install gke-gcloud-auth-plugin: gcloud components install "
                            "gke-gcloud-auth-plugin (see README, Prod on GKE)",
                            "provideClusterInfo": True,
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "preferences": {},
        },
        indent=2,
    )


def dns_endpoint(config: gcp.container.outputs.ClusterControlPlaneEndpointsConfig | None) -> str:
    """The control plane's DNS endpoint, as GKE reports it; a cluster without one is refused."""
    endpoint = config.dns_endpoint_config.endpoint if config and config.dns_endpoint_config else None
    if not endpoint:
        raise ValueError("GKE reported no DNS endpoint for the cluster")
    return endpoint


def cluster_provider(
    name: str,
    *,
    kubeconfig: pulumi.Output[str],
    context: str,
    node_pools: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
) -> k8s.Provider:
    """The `kubernetes.Provider` the workloads register through."""
    return k8s.Provider(
        f"{name}-k8s",
        # The DNS endpoint: the program also runs on CI runners, outside the authorized networks.
        kubeconfig=kubeconfig,
        # Replace the provider (and so every Kubernetes object on it) only when the cluster is a
        # new one. Without this, pulumi-kubernetes replaces them whenever the kubeconfig's
        # server or CA changes (DiffConfig), e.g. on a switch of endpoint or a CA rotation. The
        # context names project, location and cluster: exactly what replaces the cluster.
        cluster_identifier=context,
        # Wait for the pools: a workload registered on a cluster without nodes never starts.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(node_pools)),
    )
