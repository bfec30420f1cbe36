"""How a Service of type LoadBalancer is exposed on GKE: internal unless asked otherwise."""

from __future__ import annotations

INTERNAL_LOAD_BALANCER = {"networking.gke.io/load-balancer-type": "Internal"}


def load_balancer_annotations(*, public: bool) -> dict[str, str]:
    """Annotations for a Service of type LoadBalancer: an internal passthrough load balancer
    (reachable from the cluster's VPC only) unless a public one is asked for explicitly."""
    return {} if public else dict(INTERNAL_LOAD_BALANCER)
