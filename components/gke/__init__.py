"""A GKE Standard cluster that serves on a small CPU pool and trains on GPUs only while there is work.

One module per part: `args` (what it is built from), `network`, `node_identity`, `control_plane`,
`node_pools`, `kubeconfig` (endpoint, kubeconfig, provider), `load_balancer` (Service exposure),
and `cluster`, the `GkeCluster` component that composes them.
"""

from components.gke.args import GkeClusterArgs, ServedPods
from components.gke.cluster import GkeCluster
from components.gke.kubeconfig import kubeconfig_for
from components.gke.load_balancer import load_balancer_annotations
from components.gke.node_pools import cpu_machine_for, cpu_pool_bounds, gpus_per_node

__all__ = [
    "GkeCluster",
    "GkeClusterArgs",
    "ServedPods",
    "cpu_machine_for",
    "cpu_pool_bounds",
    "gpus_per_node",
    "kubeconfig_for",
    "load_balancer_annotations",
]
