"""An EKS Auto Mode cluster that serves, built from plain `pulumi_aws.eks` resources (every child is
visible to the mock engine and to review, as a remote component's would not be).

One module per part: `args` (what it is built from, and the GPU pool's size), `roles` (the cluster's
and the nodes' IAM roles), `control_plane` (secrets key, logs, the API server's access, the cluster),
`access` (access entries), `kubeconfig` (kubeconfig and provider), `node_pools` (the GPU NodePool),
`network_policies` (NetworkPolicy enforcement), `load_balancer` (Service exposure), and `cluster`,
the `EksCluster` component that composes them.
"""

from components.eks.args import EksClusterArgs, GpuNodes, gpu_nodes_for
from components.eks.cluster import EksCluster
from components.eks.kubeconfig import kubeconfig_for
from components.eks.load_balancer import LOAD_BALANCER_CLASS, load_balancer_annotations

__all__ = [
    "LOAD_BALANCER_CLASS",
    "EksCluster",
    "EksClusterArgs",
    "GpuNodes",
    "gpu_nodes_for",
    "kubeconfig_for",
    "load_balancer_annotations",
]
