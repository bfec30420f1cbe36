"""The namespace the platform's workloads share, locked down before anything runs in it, and
sized: a ResourceQuota that holds the stack's own workloads at their most, and a LimitRange."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.config import cpu_millicores, cpu_quantity
from components.pods import GPU_RESOURCE, PART_OF
from components.registry import RegistryCredentials
from components.renew_pull_secret import docker_config_json

DNS_PORT = 53
HTTPS_PORT = 443
NAMESPACE_LABEL = "kubernetes.io/metadata.name"
"""The label the API server puts on every namespace: its own name (Kubernetes 1.21+)."""
KUBE_DNS = {"k8s-app": "kube-dns"}
"""The cluster DNS pods' label, in kube-system (kind's CoreDNS and GKE's kube-dns both carry it)."""
PULL_SECRET = "registry-pull"
QUOTA = "workloads"
LIMITS = "container-defaults"
# What a container that sets no resources gets (request = limit): a small helper's size. The
# platform's own containers all set theirs (components/pods.py).
DEFAULT_CPU_MILLICORES = 100
DEFAULT_MEMORY = "128Mi"
_MEMORY_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
MEBIBYTE, GIBIBYTE = 2**20, 2**30


def memory_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity with its unit (512Mi, 2Gi, 1G), in bytes."""
    unit = quantity.lstrip("0123456789")
    return int(quantity.removesuffix(unit)) * _MEMORY_UNITS[unit]


def memory_quantity(size: int) -> str:
    """Bytes as a quantity: in Gi or Mi where they are whole ones, else plain bytes."""
    for unit, factor in (("Gi", GIBIBYTE), ("Mi", MEBIBYTE)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def kube_dns_pods() -> list[k8s.networking.v1.NetworkPolicyPeerArgs]:
    """The cluster DNS pods (`k8s-app: kube-dns` in kube-system), as a NetworkPolicy names them."""
    return [
        k8s.networking.v1.NetworkPolicyPeerArgs(
            namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={NAMESPACE_LABEL: "kube-system"}),
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=KUBE_DNS),
        )
    ]


@dataclass(frozen=True)
class PodBudget:
    """One workload's room in the namespace: the most pods it runs at once, and each pod's size."""

    workload: str
    """What the pods are, for a reader: `iris serving`, `iris training`, `pull-secret renewer`."""
    pods: int
    cpu: str
    """The pod's CPU request (= limit), a Kubernetes quantity: "250m", "1"."""
    memory: str
    """The pod's memory request (= limit), a Kubernetes quantity: "512Mi"."""
    gpus: int = 0


def quota_hard(budgets: Sequence[PodBudget]) -> dict[str, str]:
    """The ResourceQuota's `hard`: the sum of every workload's pods at their most.

    Requests and limits are the same numbers: every container the platform runs sets them equal.
    GPUs are capped too (at 0 when nothing asks for one): no pod here can take a GPU node's GPUs
    that the stack did not plan for.
    """
    cpu = sum(b.pods * cpu_millicores(b.cpu) for b in budgets)
    memory = sum(b.pods * memory_bytes(b.memory) for b in budgets)
    return {
        "pods": str(sum(b.pods for b in budgets)),
        "requests.cpu": cpu_quantity(cpu),
        "limits.cpu": cpu_quantity(cpu),
        "requests.memory": memory_quantity(memory),
        "limits.memory": memory_quantity(memory),
        f"requests.{GPU_RESOURCE}": str(sum(b.pods * b.gpus for b in budgets)),
    }


def container_limits(budgets: Sequence[PodBudget]) -> k8s.core.v1.LimitRangeItemArgs:
    """Per container: at most the largest of the stack's own pods; a small default for one that sets nothing."""
    largest_cpu = max((cpu_millicores(b.cpu) for b in budgets), default=DEFAULT_CPU_MILLICORES)
    largest_memory = max((memory_bytes(b.memory) for b in budgets), default=memory_bytes(DEFAULT_MEMORY))
    # A default above the maximum would make the API server refuse the LimitRange.
    default = {
        "cpu": cpu_quantity(min(DEFAULT_CPU_MILLICORES, largest_cpu)),
        "memory": memory_quantity(min(memory_bytes(DEFAULT_MEMORY), largest_memory)),
    }
    return k8s.core.v1.LimitRangeItemArgs(
        type="Container",
        max={"cpu": cpu_quantity(largest_cpu), "memory": memory_quantity(largest_memory)},
        default=default,
        default_request=default,
    )


@dataclass(frozen=True)
class WorkloadNamespaceArgs:
    name: str
    """The namespace, e.g. `mlops-dev`; also the `app.kubernetes.io/instance` of its workloads."""
    registry: RegistryCredentials | None
    """The registry's short-lived pull credentials, for an image pull secret; None where the
    nodes pull with their own identity (GKE nodes from Artifact Registry)."""
    budgets: Sequence[PodBudget]
    """Every workload the stack runs in the namespace, at its most: the quota is their sum."""
    pull_secret_renewed: bool = False
    """Something on the cluster renews the pull secret (components/pull_secret_renewer.py):
    Pulumi then writes its token once and leaves its data alone."""
    extra_egress: Sequence[k8s.networking.v1.NetworkPolicyEgressRuleArgs] = ()
    """Egress the cluster's pods need beyond DNS and HTTPS (EKS: the Pod Identity Agent on the node)."""


class WorkloadNamespace(pulumi.ComponentResource):
    """A namespace that enforces the "restricted" Pod Security Standard and denies all traffic
    by default (each workload admits its own), with the image pull secret its pods use, a
    ResourceQuota that holds the stack's workloads at their most (so a runaway one can't take
    the cluster) and a LimitRange for containers that set no resources.

    Egress is open only to DNS and HTTPS (S3 and the other AWS APIs), and to what the cluster's
    identities need (`extra_egress`). Image pulls are the kubelet's, outside any NetworkPolicy.
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
                    # DNS to any address: it is answered by kube-dns pods on kind and GKE, but on each
                    # node on EKS Auto Mode, where no pod selector would name the server.
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        ports=[
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol="UDP", port=DNS_PORT),
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=DNS_PORT),
                        ]
                    ),
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        ports=[k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=HTTPS_PORT)]
                    ),
                    *args.extra_egress,
                ],
            ),
            opts=in_namespace,
        )
        _size_limits(name, args.budgets, namespace=self.name, opts=in_namespace)

        self.pull_secret_name = None
        if args.registry is None:
            self.register_outputs({"name": self.name})
            return
        self.pull_secret_name = registry_pull_secret(
            f"{name}-pull", args.registry, namespace=self.name, renewed=args.pull_secret_renewed, opts=in_namespace
        )
        self.register_outputs({"name": self.name, "pullSecretName": self.pull_secret_name})


def registry_pull_secret(
    resource_name: str,
    registry: RegistryCredentials,
    *,
    namespace: pulumi.Input[str],
    renewed: bool,
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    """A namespace's image pull Secret (`registry-pull`) with the registry's token; its name.

    The registry token lasts 12 hours. Renewed on the cluster (`renewed`), the Secret's data is not
    Pulumi's after creation: an `up` would put back a stale token, and every drift check would
    report the renewed one. Otherwise every `up` writes a fresh one.
    """
    docker_config = pulumi.Output.secret(
        pulumi.Output.all(registry.address, registry.username, registry.password).apply(
            lambda values: docker_config_json(*values)
        )
    )
    pull_secret = k8s.core.v1.Secret(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=PULL_SECRET, namespace=namespace),
        type="kubernetes.io/dockerconfigjson",
        string_data={".dockerconfigjson": docker_config},
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(ignore_changes=["stringData", "data"] if renewed else None)
        ),
    )
    return pull_secret.metadata.name


def _size_limits(name: str, budgets: Sequence[PodBudget], *, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions) -> None:
    """The quota and the container defaults. Pods created before them are still counted once they exist."""
    k8s.core.v1.ResourceQuota(
        f"{name}-quota",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=QUOTA, namespace=namespace),
        spec=k8s.core.v1.ResourceQuotaSpecArgs(hard=quota_hard(budgets)),
        opts=opts,
    )
    k8s.core.v1.LimitRange(
        f"{name}-limits",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=LIMITS, namespace=namespace),
        spec=k8s.core.v1.LimitRangeSpecArgs(limits=[container_limits(budgets)]),
        opts=opts,
    )
