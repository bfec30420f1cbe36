"""What the cluster choice hands the workloads and the outputs (components/clusters.py), with no program run."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from types import SimpleNamespace
from typing import Any, cast

import pytest

from components.clusters import Cluster, NodeNetwork, eks_cluster, gke_cluster, runs_on_gke
from components.serving import ServiceExposure

PROVIDER = cast(Any, object())
ROLE_ARNS = {"iris-server": "arn:aws:iam::123456789012:role/mlops/mlops-prod-iris-server"}
IDENTITIES = cast(Any, SimpleNamespace(role_arns=ROLE_ARNS))
CONTEXT = "gke_p-123456_us-central1-a_mlops-prod"
NETWORK = "projects/p-123456/global/networks/mlops-prod"
GKE_OUTPUTS = {"kubeconfig": "{kubeconfig}", "clusterName": "mlops-prod", "clusterEndpoint": "203.0.113.1", "clusterIssuer": "https://issuer"}


def on_gke(*, public: bool = False, min_nodes: int = 0) -> Cluster:
    cfg = SimpleNamespace(gke=SimpleNamespace(public_endpoint=public), compute=SimpleNamespace(min_nodes=min_nodes))
    gke = SimpleNamespace(
        provider=PROVIDER, context=CONTEXT, kubeconfig="{kubeconfig}", name="mlops-prod", endpoint="203.0.113.1",
        issuer_url="https://issuer", network=NETWORK,
    )
    return gke_cluster(cast(Any, cfg), cast(Any, gke), IDENTITIES)


def test_workloads_register_through_the_gke_provider_with_its_identities() -> None:
    cluster = on_gke()
    assert (cluster.provider, cluster.identities) == (PROVIDER, IDENTITIES)


def test_commands_name_the_gke_context() -> None:
    # Without --context, `kubectl` acts on whichever cluster the laptop last used.
    assert on_gke().kubectl == f"kubectl --context {CONTEXT}"


def test_serving_is_an_internal_load_balancer_unless_public() -> None:
    # A public LB on prod by default would put the model server on the internet.
    assert on_gke().exposure == ServiceExposure(
        type="LoadBalancer", annotations={"networking.gke.io/load-balancer-type": "Internal"}, public=False
    )


def test_a_public_endpoint_is_a_plain_load_balancer_marked_public() -> None:
    # public=True makes the server require a bearer token.
    assert on_gke(public=True).exposure == ServiceExposure(type="LoadBalancer", annotations={}, public=True)


def test_gke_nodes_pull_images_themselves() -> None:
    # An Artifact Registry token in a pull Secret would expire within the hour.
    assert on_gke().nodes_pull_images is True


@pytest.mark.parametrize(("min_nodes", "from_zero"), [(0, True), (1, False), (2, False)])
def test_gpu_nodes_start_from_zero_only_with_a_zero_minimum(min_nodes: int, from_zero: bool) -> None:
    # From zero, a training attempt gets the node's start time on top of its timeout.
    assert on_gke(min_nodes=min_nodes).gpu_nodes_start_from_zero is from_zero


def test_a_cluster_choice_is_immutable() -> None:
    with pytest.raises(FrozenInstanceError):
        on_gke().kubectl = "kubectl"  # type: ignore[misc]


def test_gke_exports_its_kubeconfig_name_endpoint_and_issuer() -> None:
    assert on_gke().exports == GKE_OUTPUTS


def test_gke_workloads_act_as_the_roles_their_identities_make() -> None:
    # The same mapping, filled in as each workload is granted: read after serving and training exist.
    assert on_gke().role_arns is ROLE_ARNS


def test_role_exports_name_each_workload_with_a_service_account() -> None:
    exports = on_gke().role_exports({"servingRoleArn": "iris-server", "trainingRoleArn": None})
    assert exports == {"servingRoleArn": "arn:aws:iam::123456789012:role/mlops/mlops-prod-iris-server"}


def test_a_workload_the_identities_never_granted_is_an_error() -> None:
    with pytest.raises(KeyError):
        on_gke().role_exports({"trainingRoleArn": "train"})


def test_a_managed_database_peers_with_the_gke_clusters_own_network() -> None:
    assert on_gke().private_network == NETWORK


def test_access_key_identities_export_no_roles() -> None:
    keys = Cluster(
        provider=PROVIDER, identities=IDENTITIES, kubectl="kubectl", exposure=ServiceExposure(),
        nodes_pull_images=False, gpu_nodes_start_from_zero=False,
    )
    # A cluster you bring has no network the program knows: no managed database peers with it or runs in it.
    assert (keys.exports, keys.role_arns, keys.private_network, keys.node_network) == ({}, None, None, None)
    assert keys.role_exports({"servingRoleArn": "iris-server"}) == {}


@pytest.mark.parametrize(("kind", "gke"), [("gke", True), ("ec2", False), ("none", False)])
def test_only_compute_kind_gke_runs_on_the_programs_gke_cluster(kind: str, gke: bool) -> None:
    assert runs_on_gke(cast(Any, SimpleNamespace(compute=SimpleNamespace(kind=kind)))) is gke


EKS_CONTEXT = "mlops-prod-aws"
EKS_OUTPUTS = {"kubeconfig": "{kubeconfig}", "clusterName": "mlops-prod-aws", "clusterEndpoint": "https://eks"}


NODES = NodeNetwork(
    vpc_id=cast(Any, "vpc-1"), cidr="10.40.0.0/16", private_subnet_ids=["subnet-a", "subnet-b"],
    security_group_id=cast(Any, "sg-cluster"),
)


def on_eks(*, public: bool = False) -> Cluster:
    cfg = SimpleNamespace(eks=SimpleNamespace(public_endpoint=public))
    cluster = SimpleNamespace(provider=PROVIDER, context=EKS_CONTEXT, kubeconfig="{kubeconfig}", name="mlops-prod-aws", endpoint="https://eks")
    return eks_cluster(cast(Any, cfg), cast(Any, cluster), IDENTITIES, NODES)


def test_eks_serving_is_an_internal_nlb_of_auto_modes_class_unless_public() -> None:
    assert on_eks().exposure == ServiceExposure(
        type="LoadBalancer",
        annotations={
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
            "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
        },
        load_balancer_class="eks.amazonaws.com/nlb",
        public=False,
    )


def test_a_public_eks_endpoint_is_an_internet_facing_nlb_marked_public() -> None:
    # public=True makes the server require a bearer token, as on GKE.
    exposure = on_eks(public=True).exposure
    assert (exposure.annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"], exposure.public) == ("internet-facing", True)


def test_eks_nodes_pull_images_and_gpu_nodes_start_from_zero() -> None:
    cluster = on_eks()
    assert (cluster.nodes_pull_images, cluster.gpu_nodes_start_from_zero) == (True, True)


def test_eks_commands_name_its_context_and_it_exports_its_kubeconfig_name_and_endpoint() -> None:
    cluster = on_eks()
    assert (cluster.kubectl, cluster.exports) == (f"kubectl --context {EKS_CONTEXT}", EKS_OUTPUTS)
    assert (cluster.provider, cluster.identities, cluster.role_arns) == (PROVIDER, IDENTITIES, ROLE_ARNS)


def test_eks_pods_may_reach_the_pod_identity_agent() -> None:
    [rule] = on_eks().pod_egress
    assert rule.to is not None and rule.ports is not None
    peer, port = cast(Any, rule.to)[0], cast(Any, rule.ports)[0]
    assert (peer.ip_block.cidr, port.port, port.protocol) == ("169.254.170.23/32", 80, "TCP")
    assert on_gke().pod_egress == ()


def test_a_managed_database_runs_in_the_eks_nodes_network_and_none_peers() -> None:
    assert (on_eks().node_network, on_eks().private_network) == (NODES, None)
    assert on_gke().node_network is None


def test_dns_is_named_by_the_kube_dns_pods_except_on_eks_whose_nodes_answer_it() -> None:
    [peer] = on_gke().dns_servers
    assert cast(Any, peer).namespace_selector.match_labels == {"kubernetes.io/metadata.name": "kube-system"}
    assert cast(Any, peer).pod_selector.match_labels == {"k8s-app": "kube-dns"}
    assert on_eks().dns_servers == []
