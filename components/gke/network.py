"""The GKE cluster's own network: a VPC, the nodes' subnet with pod and service ranges, Cloud NAT."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.gke.args import GkeClusterArgs

# The nodes' subnet and its secondary ranges (VPC-native cluster). Private (RFC 1918) ranges
# that do not overlap each other; the network is the cluster's own, so nothing else uses them.
NODE_RANGE = "10.10.0.0/20"
POD_RANGE_NAME, POD_RANGE = "pods", "10.20.0.0/16"
SERVICE_RANGE_NAME, SERVICE_RANGE = "services", "10.30.0.0/20"


def cluster_network(
    name: str, args: GkeClusterArgs, *, child: pulumi.ResourceOptions
) -> tuple[gcp.compute.Network, gcp.compute.Subnetwork]:
    """The network and the nodes' subnet; the nodes have no public address, so egress is by Cloud NAT."""
    network = gcp.compute.Network(
        f"{name}-network",
        name=args.name,
        auto_create_subnetworks=False,
        routing_mode="REGIONAL",
        description=f"The {args.name} GKE cluster's own network",
        opts=child,
    )
    subnet = gcp.compute.Subnetwork(
        f"{name}-subnet",
        name=f"{args.name}-nodes",
        network=network.id,
        region=args.region,
        ip_cidr_range=NODE_RANGE,
        secondary_ip_ranges=[
            gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=POD_RANGE_NAME, ip_cidr_range=POD_RANGE),
            gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=SERVICE_RANGE_NAME, ip_cidr_range=SERVICE_RANGE),
        ],
        # Nodes without public addresses still reach Google APIs (Artifact Registry, logging).
        private_ip_google_access=True,
        log_config=gcp.compute.SubnetworkLogConfigArgs(
            aggregation_interval="INTERVAL_10_MIN", flow_sampling=0.1, metadata="INCLUDE_ALL_METADATA"
        ),
        opts=child,
    )
    _cloud_nat(name, args, network=network, subnet=subnet, child=child)
    return network, subnet


def _cloud_nat(
    name: str,
    args: GkeClusterArgs,
    *,
    network: gcp.compute.Network,
    subnet: gcp.compute.Subnetwork,
    child: pulumi.ResourceOptions,
) -> None:
    router = gcp.compute.Router(
        f"{name}-router", name=f"{args.name}-router", network=network.id, region=args.region, opts=child
    )
    gcp.compute.RouterNat(
        f"{name}-nat",
        name=f"{args.name}-nat",
        router=router.name,
        region=args.region,
        nat_ip_allocate_option="AUTO_ONLY",
        source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
        subnetworks=[
            gcp.compute.RouterNatSubnetworkArgs(name=subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"])
        ],
        log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
        opts=child,
    )
