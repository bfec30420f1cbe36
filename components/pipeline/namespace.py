"""Airflow's own namespace, locked down before the chart puts anything in it.

It enforces the "restricted" Pod Security Standard, denies all traffic, and then admits only what
Airflow needs: DNS from the cluster's DNS servers, the Kubernetes API and the cloud APIs, what the
cluster's pods must reach besides (EKS: the Pod Identity Agent, for their credentials), its pods to
one another (the api-server and a running task's log server), its workers to the model servers (the
roll-out task), and, only with `pipeline.publicApi`, the api-server from anywhere. Its database's
egress comes with the database (components/pipeline/airflow.py). Image pulls are the kubelet's,
outside any NetworkPolicy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.namespace import DNS_PORT, HTTPS_PORT, NAMESPACE_LABEL, registry_pull_secret
from components.pipeline.chart import AIRFLOW_PODS, API_PORT, API_SERVER_PODS, SERVING_PORT, TASK_LOG_PORT, WORKER_PODS
from components.pull_secret_renewer import API_SERVER_PORT
from components.registry import RegistryCredentials
from components.serving import NAME as MODEL_SERVER

MODEL_SERVERS = {"app.kubernetes.io/name": MODEL_SERVER}


def airflow_namespace_name(name_prefix: str) -> str:
    """Airflow's namespace, beside the workloads' own (`<prefix>`): `<prefix>-airflow`."""
    return f"{name_prefix}-airflow"


@dataclass(frozen=True)
class AirflowNamespaceArgs:
    name: str
    """`<prefix>-airflow`."""
    labels: Mapping[str, str]
    """The project's usual labels, on the namespace and everything in it."""
    workloads_namespace: pulumi.Input[str]
    """Where the model servers run, whose pods the roll-out task calls."""
    public_api: bool
    """`pipeline.publicApi`: the api-server takes traffic from anywhere (its load balancer's)."""
    registry: RegistryCredentials | None
    """The registry's pull credentials, for a pull secret; None where the nodes pull themselves (GKE)."""
    pull_secret_renewed: bool = False
    """Something on the cluster renews the pull secret (components/pull_secret_renewer.py)."""
    dns_servers: Sequence[k8s.networking.v1.NetworkPolicyPeerArgs] = ()
    """Where the cluster answers DNS (components/clusters.py `Cluster.dns_servers`); empty: port 53 anywhere."""
    cluster_egress: Sequence[k8s.networking.v1.NetworkPolicyEgressRuleArgs] = ()
    """What the cluster's pods must reach besides (`Cluster.pod_egress`; EKS: the Pod Identity Agent)."""


def _ports(*ports: int, protocol: str = "TCP") -> list[k8s.networking.v1.NetworkPolicyPortArgs]:
    return [k8s.networking.v1.NetworkPolicyPortArgs(protocol=protocol, port=port) for port in ports]


def _in_namespace(namespace: pulumi.Input[str], pods: Mapping[str, str] | None = None) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    """The pods of another namespace (all of them, or those with `pods`' labels)."""
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={NAMESPACE_LABEL: namespace}),
        pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(pods or {})),
    )


def egress_rules(args: AirflowNamespaceArgs) -> dict[str, list[k8s.networking.v1.NetworkPolicyEgressRuleArgs]]:
    """Each egress policy's rules, by the policy's name (the cluster's own only where it names some)."""
    rules = {
        "allow-dns-egress": [
            k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                # No peer: any address (a rule's `to` left out admits every destination).
                to=list(args.dns_servers) or None, ports=[*_ports(DNS_PORT, protocol="UDP"), *_ports(DNS_PORT)]
            )
        ],
        # The Kubernetes API (the scheduler starts task pods, the api-server reads their logs, the
        # tasks start training Jobs): 443 behind the `kubernetes` Service, 6443 where kind's API server
        # listens after that Service's DNAT. The cloud APIs (S3, SNS, Batch, STS) have no fixed
        # addresses either: TCP 443 to anywhere is the narrowest rule that reaches them.
        "allow-api-egress": [k8s.networking.v1.NetworkPolicyEgressRuleArgs(ports=_ports(HTTPS_PORT, API_SERVER_PORT))],
        "allow-serving-egress": [
            k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                to=[_in_namespace(args.workloads_namespace, MODEL_SERVERS)], ports=_ports(SERVING_PORT)
            )
        ],
    }
    if args.cluster_egress:
        rules["allow-cluster-egress"] = list(args.cluster_egress)
    return rules


class AirflowNamespace(pulumi.ComponentResource):
    """The namespace, its NetworkPolicies and, where the nodes need one, its image pull secret."""

    name: pulumi.Output[str]
    """The namespace, once it exists."""
    namespace_name: str
    """Its name as given, known before it exists (RBAC subjects elsewhere name it)."""
    pull_secret_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: AirflowNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:pipeline:AirflowNamespace", name, None, opts)
        namespace = k8s.core.v1.Namespace(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name,
                labels={
                    **args.labels,
                    # The API server refuses any pod that does not meet "restricted": the chart's too.
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                },
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = namespace.metadata.name
        self.namespace_name = args.name
        inside = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        self._policies(name, args, inside)
        self.pull_secret_name = (
            None
            if args.registry is None
            else registry_pull_secret(
                f"{name}-pull", args.registry, namespace=self.name, renewed=args.pull_secret_renewed, opts=inside
            )
        )
        self.register_outputs({"name": self.name})

    def _policies(self, name: str, args: AirflowNamespaceArgs, opts: pulumi.ResourceOptions) -> None:
        def policy(
            suffix: str,
            *,
            pods: Mapping[str, str] | None = None,
            ingress: Sequence[k8s.networking.v1.NetworkPolicyIngressRuleArgs] | None = None,
            egress: Sequence[k8s.networking.v1.NetworkPolicyEgressRuleArgs] | None = None,
            types: Sequence[str],
        ) -> None:
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{suffix}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=suffix, namespace=self.name, labels=dict(args.labels)),
                spec=k8s.networking.v1.NetworkPolicySpecArgs(
                    # An empty selector (every pod in the namespace) where no labels are given.
                    pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(pods) if pods else None),
                    policy_types=list(types),
                    ingress=list(ingress) if ingress is not None else None,
                    egress=list(egress) if egress is not None else None,
                ),
                opts=opts,
            )

        policy("default-deny", types=["Ingress", "Egress"])
        for suffix, rules in egress_rules(args).items():
            policy(suffix, egress=rules, pods=WORKER_PODS if suffix == "allow-serving-egress" else None, types=["Egress"])
        own = [k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=AIRFLOW_PODS))]
        policy(
            "allow-airflow-traffic",
            pods=AIRFLOW_PODS,
            ingress=[k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=own, ports=_ports(API_PORT, TASK_LOG_PORT))],
            egress=[k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=own, ports=_ports(API_PORT, TASK_LOG_PORT))],
            types=["Ingress", "Egress"],
        )
        if args.public_api:
            # The load balancer's traffic: its login (the FAB auth manager) is what guards it.
            policy(
                "allow-public-api-ingress",
                pods=API_SERVER_PODS,
                ingress=[k8s.networking.v1.NetworkPolicyIngressRuleArgs(ports=_ports(API_PORT))],
                types=["Ingress"],
            )
