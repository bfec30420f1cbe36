"""How pulumi and kubectl reach the EKS cluster: a kubeconfig with no credential in it, and the provider."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s


def kubeconfig_for(*, context: str, endpoint: str, certificate_authority: str, cluster_name: str, region: str) -> str:
    """A kubeconfig for the cluster's API server (its private endpoint from the VPC, its public one from
    the listed networks) that authenticates with `aws eks get-token`.

    It holds no credential: the AWS CLI signs a short-lived token (15 minutes) with whatever identity
    the caller has (a profile, SSO, a CI role), and EKS maps that identity through its access entry.
    The context is named after the cluster, as `aws eks update-kubeconfig --alias <name>` names it.
    JSON is valid YAML.
    """
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": context, "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority}}
            ],
            "users": [
                {
                    "name": context,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
                            "installHint": "Install the AWS CLI v2 (see README, Prod on AWS (EKS))",
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
            "current-context": context,
            "preferences": {},
        },
        indent=2,
    )


def cluster_provider(
    name: str,
    *,
    kubeconfig: pulumi.Output[str],
    created_at: pulumi.Output[str],
    ready: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
) -> k8s.Provider:
    """The `kubernetes.Provider` the workloads register through."""
    return k8s.Provider(
        f"{name}-k8s",
        kubeconfig=kubeconfig,
        # Replace the provider (and so every Kubernetes object on it) only when the cluster is a new
        # one: its creation time changes then and only then. A new endpoint or CA of the same cluster
        # would otherwise replace every object too (pulumi-kubernetes' DiffConfig).
        cluster_identifier=created_at,
        # The deployer's access entry first: without it, the API server answers every call with 401.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(ready)),
    )
