"""The namespace the platform's workloads share, locked down before anything runs in it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.pods import PART_OF
from components.registry import RegistryCredentials
from components.renew_pull_secret import docker_config_json

DNS_PORT = 53
HTTPS_PORT = 443
PULL_SECRET = "registry-pull"


@dataclass(frozen=True)
class WorkloadNamespaceArgs:
    name: str
    """The namespace, e.g. `mlops-dev`; also the `app.kubernetes.io/instance` of its workloads."""
    registry: RegistryCredentials | None
    """The registry's short-lived pull credentials, for an image pull secret; None where the
    nodes pull with their own identity (GKE nodes from Artifact Registry)."""
    pull_secret_renewed: bool = False
    """Something on the cluster renews the pull secret (components/pull_secret_renewer.py):
    Pulumi then writes its token once and leaves its data alone."""


class WorkloadNamespace(pulumi.ComponentResource):
    """A namespace that enforces the "restricted" Pod Security Standard and denies all traffic
    by default (each workload admits its own), with the image pull secret its pods use.

    Egress is open only to DNS and HTTPS (S3 and the other AWS APIs). Image pulls are the
    kubelet's, outside any NetworkPolicy.
    """

    name: pulumi.Output[str]
    pull_secret_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: WorkloadNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:kubernetes:WorkloadNamespace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name,
                labels={
                    "app.kubernetes.io/part-of": PART_OF,
                    # The API server refuses any pod that does not meet "restricted".
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                },
            ),
            opts=child,
        )
        self.name = namespace.metadata.name
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="default-deny", namespace=self.name),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),  # every pod in the namespace
                policy_types=["Ingress", "Egress"],
            ),
            opts=in_namespace,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-egress",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="allow-dns-and-https-egress", namespace=self.name),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Egress"],
                egress=[
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        ports=[
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol="UDP", port=DNS_PORT),
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=DNS_PORT),
                        ]
                    ),
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        ports=[k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=HTTPS_PORT)]
                    ),
                ],
            ),
            opts=in_namespace,
        )

        self.pull_secret_name = None
        if args.registry is None:
            self.register_outputs({"name": self.name})
            return
        # The registry token lasts 12 hours. Renewed on the cluster, the Secret's data is not
        # Pulumi's after creation: an `up` would put back a stale token, and every drift check
        # would report the renewed one. Otherwise every `up` writes a fresh one.
        docker_config = pulumi.Output.secret(
            pulumi.Output.all(args.registry.address, args.registry.username, args.registry.password).apply(
                lambda values: docker_config_json(*values)
            )
        )
        pull_secret = k8s.core.v1.Secret(
            f"{name}-pull",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=PULL_SECRET, namespace=self.name),
            type="kubernetes.io/dockerconfigjson",
            string_data={".dockerconfigjson": docker_config},
            opts=pulumi.ResourceOptions.merge(
                in_namespace,
                pulumi.ResourceOptions(ignore_changes=["stringData", "data"] if args.pull_secret_renewed else None),
            ),
        )
        self.pull_secret_name = pull_secret.metadata.name
        self.register_outputs({"name": self.name, "pullSecretName": self.pull_secret_name})

