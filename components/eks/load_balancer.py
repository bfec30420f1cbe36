"""How a Service of type LoadBalancer is exposed on EKS Auto Mode: an internal NLB unless asked otherwise."""

from __future__ import annotations

LOAD_BALANCER_CLASS = "eks.amazonaws.com/nlb"
"""Auto Mode's own load balancing makes a Network Load Balancer for a Service of this class."""
SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
TARGET_TYPE = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"


def load_balancer_annotations(*, public: bool) -> dict[str, str]:
    """An internal NLB (in the private subnets, reachable from the VPC only) unless a public one is asked
    for, in the public subnets. Either sends traffic straight to the pods' IPs, not through a NodePort."""
    return {SCHEME: "internet-facing" if public else "internal", TARGET_TYPE: "ip"}
