"""The GKE cluster component: its network, node identity, control plane, pools and provider, composed.

`GkeCluster` owns the network (a VPC of its own, one subnet with secondary ranges for pods
and services, a router and Cloud NAT for egress, as the nodes have no public address), the
control plane, a dedicated node service account, and two autoscaled node pools:

- `cpu`: the serving pods and the cluster's own system pods, sized from the serving
  replicas and their CPU, and no larger;
- `gpu`: training runs. It scales between `compute.minNodes` and `compute.maxNodes` (0 is
  allowed, so an idle GPU costs nothing), installs the NVIDIA driver itself, runs on spot
  capacity when asked, and is tainted so that only pods that tolerate `nvidia.com/gpu`
  (the GPU workloads) land there.

Callers get `provider` (a `kubernetes.Provider` for this cluster), `kubeconfig` (a secret;
it authenticates with `gke-gcloud-auth-plugin`, so it holds no credential either),
`issuer_url`, the cluster's ServiceAccount-token issuer, which AWS can be told to trust, and
`network`, the VPC a managed service reaches the pods on (Cloud SQL's private IP).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.gke.args import GkeClusterArgs
from components.gke.control_plane import control_plane
from components.gke.kubeconfig import cluster_provider, dns_endpoint, kubeconfig_for
from components.gke.network import cluster_network
from components.gke.node_identity import node_service_account
from components.gke.node_pools import gpu_pool, serving_pool, serving_pool_bounds


class GkeCluster(pulumi.ComponentResource):
    """A private GKE Standard cluster with a CPU serving pool and a scale-to-zero GPU pool."""

    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    """The control plane's IP endpoint, reachable from `authorized_networks` only."""
    dns_endpoint: pulumi.Output[str]
    """The control plane's DNS endpoint (`gke-<id>.<region>.gke.goog`), guarded by IAM instead."""
    issuer_url: pulumi.Output[str]
    """The ServiceAccount-token issuer: https://container.googleapis.com/v1/projects/<p>/locations/<l>/clusters/<name>."""
    kubeconfig: pulumi.Output[str]
    """Secret. Authenticates through gke-gcloud-auth-plugin."""
    provider: k8s.Provider
    context: str
    """The kubeconfig context name, the one `gcloud container clusters get-credentials` writes too."""
    node_service_account: pulumi.Output[str]
    """The nodes' service account email."""
    cpu_pool_bounds: tuple[int, int]
    gpu_pool_name: pulumi.Output[str]
    network: pulumi.Output[str]
    """The cluster's VPC, `projects/<p>/global/networks/<name>`: where private services access peers."""

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:gke:GkeCluster", name, None, opts)
        if not args.zones:
            raise ValueError("a GKE cluster needs at least one zone")
        if not args.authorized_networks:
            raise ValueError("a GKE cluster needs at least one authorized network")
        child = pulumi.ResourceOptions(parent=self)

        network, subnet = cluster_network(name, args, child=child)
        nodes = node_service_account(name, args, child=child)
        cluster = control_plane(name, args, network=network, subnet=subnet, node_account=nodes, parent=self)
        self.cpu_pool_bounds = serving_pool_bounds(args)
        cpu_pool = serving_pool(name, args, cluster=cluster, node_account=nodes, parent=self)
        gpu = gpu_pool(name, args, cluster=cluster, node_account=nodes, parent=self)

        self.name = cluster.name
        self.endpoint = cluster.endpoint
        self.context = f"gke_{args.project}_{args.location}_{args.name}"
        # GKE's token issuer is the cluster's v1 API URL; its OIDC discovery document and keys
        # are public at <issuer>/.well-known/openid-configuration, which is what AWS reads.
        self.issuer_url = pulumi.Output.concat("https://container.googleapis.com/v1/", cluster.id)
        self.dns_endpoint = cluster.control_plane_endpoints_config.apply(dns_endpoint)
        self.kubeconfig = pulumi.Output.secret(
            self.dns_endpoint.apply(lambda endpoint: kubeconfig_for(name=self.context, dns_endpoint=endpoint))
        )
        self.provider = cluster_provider(
            name, kubeconfig=self.kubeconfig, context=self.context, node_pools=[cpu_pool, gpu], parent=self
        )
        self.node_service_account = nodes.email
        self.gpu_pool_name = gpu.name
        self.network = network.id
        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "dnsEndpoint": self.dns_endpoint,
                "issuerUrl": self.issuer_url,
                "kubeconfig": self.kubeconfig,
                "network": self.network,
            }
        )
