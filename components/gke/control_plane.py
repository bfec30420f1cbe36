"""The GKE control plane: a zonal, private-node, VPC-native cluster with two guarded endpoints."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.gke.args import GkeClusterArgs
from components.gke.network import POD_RANGE_NAME, SERVICE_RANGE_NAME
from components.gke.node_identity import NODE_SCOPES

MAINTENANCE_WINDOW = gcp.container.ClusterMaintenancePolicyRecurringWindowArgs(
    # The date only anchors the recurrence; GKE reads the times as UTC ("Z", as it reports them,
    # so the provider sees no difference on refresh).
    start_time="2025-01-04T00:00:00Z",
    end_time="2025-01-04T08:00:00Z",
    recurrence="FREQ=WEEKLY;BYDAY=SA,SU",
)
"""Auto-upgrades and other planned GKE maintenance only on weekend nights, 00:00-08:00 UTC. GKE asks
for at least 48 hours of window in any 32 days; eight weekend days of 8 hours give at least 64."""


MONITORED_COMPONENTS = ["SYSTEM_COMPONENTS", "HPA", "POD", "DEPLOYMENT"]
"""GKE's system metrics (free), and the managed kube state metrics packages the alert rules and the
dashboard read (components/monitoring/metrics.py): HPA (current and max replicas), POD (the training
pods' phase), DEPLOYMENT (available replicas). GKE's other default packages (STORAGE, DAEMONSET,
STATEFULSET, CADVISOR, KUBELET, JOBSET) are billed per sample and nothing here reads them. Listed in
the order GKE reports them (its enum order), or the provider sees an order-only difference on every
refresh (hashicorp/terraform-provider-google#28688: the field is a TypeList)."""

MONITORING = gcp.container.ClusterMonitoringConfigArgs(
    enable_components=MONITORED_COMPONENTS,
    # Managed collection: GKE runs the collectors that scrape each PodMonitoring
    # (components/monitoring/managed_prometheus.py); the kube state metrics packages need it too.
    managed_prometheus=gcp.container.ClusterMonitoringConfigManagedPrometheusArgs(enabled=True),
)
"""Changed in place, never a new cluster: terraform-provider-google, google/services/container/
resource_container_cluster.go has no ForceNew on monitoring_config or its fields, and
resourceContainerClusterUpdate sends a change as UpdateClusterRequest.DesiredMonitoringConfig."""


def control_plane(
    name: str,
    args: GkeClusterArgs,
    *,
    network: gcp.compute.Network,
    subnet: gcp.compute.Subnetwork,
    node_account: gcp.serviceaccount.Account,
    parent: pulumi.Resource,
) -> gcp.container.Cluster:
    """The cluster itself, without its node pools (the default pool is removed at once)."""
    return gcp.container.Cluster(
        f"{name}",
        name=args.name,
        project=args.project,
        # Zonal control plane: one cluster per billing account gets it free (the GKE free
        # tier credit covers a zonal cluster, not a regional one); the nodes still spread
        # over every zone in `zones`. README "Prod on GKE" has the trade-off.
        location=args.location,
        network=network.id,
        subnetwork=subnet.id,
        networking_mode="VPC_NATIVE",
        ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
            cluster_secondary_range_name=POD_RANGE_NAME, services_secondary_range_name=SERVICE_RANGE_NAME
        ),
        private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
            enable_private_nodes=True,
            # The endpoint stays reachable for pulumi and kubectl, but only from the
            # authorized networks below.
            enable_private_endpoint=False,
        ),
        # The DNS-based endpoint, for callers outside the authorized networks (CI runners): any
        # network may reach it, and Google admits a request only with an IAM identity allowed
        # `container.clusters.connect`. Changed in place, never a new cluster (terraform-provider-
        # google, google/services/container/resource_container_cluster.go: the block has no
        # ForceNew; resourceContainerClusterUpdate sends it as DesiredControlPlaneEndpointsConfig).
        control_plane_endpoints_config=gcp.container.ClusterControlPlaneEndpointsConfigArgs(
            dns_endpoint_config=gcp.container.ClusterControlPlaneEndpointsConfigDnsEndpointConfigArgs(
                allow_external_traffic=True
            )
        ),
        master_authorized_networks_config=_authorized_networks(args),
        release_channel=gcp.container.ClusterReleaseChannelArgs(channel=args.release_channel),
        # Set in place (SetMaintenancePolicy; no ForceNew in the same file).
        maintenance_policy=gcp.container.ClusterMaintenancePolicyArgs(recurring_window=MAINTENANCE_WINDOW),
        workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
            workload_pool=f"{args.project}.svc.id.goog"
        ),
        monitoring_config=MONITORING,
        enable_shielded_nodes=True,
        # Dataplane V2 (eBPF): NetworkPolicies are enforced, with no add-on to manage.
        datapath_provider="ADVANCED_DATAPATH",
        # The default pool cannot be sized or tainted independently; the pools replace it.
        remove_default_node_pool=True,
        initial_node_count=1,
        node_config=_default_pool_node_config(node_account),
        deletion_protection=args.deletion_protection,
        resource_labels=dict(args.labels),
        opts=pulumi.ResourceOptions(
            parent=parent,
            # The default pool's node_config is gone once that pool is removed; the provider
            # would otherwise see a difference on every refresh and replace the cluster.
            ignore_changes=["nodeConfig"],
        ),
    )


def _authorized_networks(args: GkeClusterArgs) -> gcp.container.ClusterMasterAuthorizedNetworksConfigArgs:
    """The IP endpoint's allowlist, for people's machines (kubectl, pulumi from an office)."""
    return gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
        cidr_blocks=[
            gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                cidr_block=cidr, display_name=f"authorized-{index}"
            )
            for index, cidr in enumerate(args.authorized_networks)
        ],
        # Not every Google Cloud address: only the networks listed.
        gcp_public_cidrs_access_enabled=False,
    )


def _default_pool_node_config(node_account: gcp.serviceaccount.Account) -> gcp.container.ClusterNodeConfigArgs:
    """Only the short-lived default pool uses this; it runs as the minimal account too,
    not as the Compute Engine default service account (an Editor of the project)."""
    return gcp.container.ClusterNodeConfigArgs(
        service_account=node_account.email,
        oauth_scopes=NODE_SCOPES,
        shielded_instance_config=gcp.container.ClusterNodeConfigShieldedInstanceConfigArgs(
            enable_secure_boot=True, enable_integrity_monitoring=True
        ),
        workload_metadata_config=gcp.container.ClusterNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
    )
