"""A GKE Standard cluster that serves on a small CPU pool and trains on GPUs only while there is work.

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
it authenticates with `gke-gcloud-auth-plugin`, so it holds no credential either), and
`issuer_url`, the cluster's ServiceAccount-token issuer, which AWS can be told to trust.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.config import ComputeConfig

# The nodes' subnet and its secondary ranges (VPC-native cluster). Private (RFC 1918) ranges
# that do not overlap each other; the network is the cluster's own, so nothing else uses them.
NODE_RANGE = "10.10.0.0/20"
POD_RANGE_NAME, POD_RANGE = "pods", "10.20.0.0/16"
SERVICE_RANGE_NAME, SERVICE_RANGE = "services", "10.30.0.0/20"

CPU_MACHINE_TYPES = {"e2-standard-2": 1930, "e2-standard-4": 3920, "e2-standard-8": 7910, "e2-standard-16": 15890}
"""E2 sizes for the serving pool, smallest first, with the CPU (millicores) GKE leaves for pods
after its kubelet/system reservation (6% of the first core, 1% of the second, 0.5% of the
next two, 0.25% above four)."""
SYSTEM_DAEMONS_MILLICORES = 400
"""The per-node DaemonSets of a Dataplane V2 cluster (anetd, fluentbit, metrics agent, CSI)."""

GPU_TAINT_KEY = "nvidia.com/gpu"

NODE_ROLES = ("roles/container.defaultNodeServiceAccount",)
"""Project roles of the node service account: the one Google documents as the nodes' minimum (logs,
metrics, autoscaler metrics; it supersedes logging.logWriter and monitoring.metricWriter). The
account also reads the release image repository (below), which this role does not grant."""
REGISTRY_READER_ROLE = "roles/artifactregistry.reader"
NODE_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
"""IAM, not scopes, limits what the nodes may do; Google recommends this one scope with a minimal SA."""


@dataclass(frozen=True)
class GkeClusterArgs:
    project: str
    """The Google Cloud project id."""
    region: str
    zones: Sequence[str]
    """Node zones; the first also hosts the zonal control plane."""
    name: str
    """The cluster's name, also the prefix of its network's resources."""
    release_channel: str
    authorized_networks: Sequence[str]
    """CIDRs that may reach the control plane's endpoint; no one else can."""
    deletion_protection: bool
    """GKE refuses to delete the cluster while true (prod, unless tearing down)."""
    compute: ComputeConfig
    """The GPU pool: machineType, gpuType, minNodes, maxNodes."""
    spot: bool
    """GPU pool on spot capacity."""
    serving_min_replicas: int
    serving_max_replicas: int
    serving_cpu_millicores: int
    """CPU request of one serving pod; with the replicas it sizes the CPU pool."""
    image_repositories: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Artifact Registry repository names (`projects/.../repositories/...`) the nodes may pull from."""
    labels: Mapping[str, str] = field(default_factory=dict)


def cpu_machine_for(pod_millicores: int) -> str:
    """The smallest E2 size with room for one serving pod beside the node's own daemons."""
    for machine, allocatable in CPU_MACHINE_TYPES.items():
        if allocatable - SYSTEM_DAEMONS_MILLICORES >= pod_millicores:
            return machine
    largest, allocatable = list(CPU_MACHINE_TYPES.items())[-1]
    raise ValueError(
        f"a serving pod of {pod_millicores}m CPU does not fit even a {largest} node "
        f"({allocatable - SYSTEM_DAEMONS_MILLICORES}m free)"
    )


def cpu_pool_bounds(*, min_replicas: int, max_replicas: int, pod_millicores: int) -> tuple[int, int]:
    """(min, max) CPU nodes of `cpu_machine_for` the pod: the fewest that hold the replicas.

    The maximum has room for one more pod than `max_replicas`: the surge pod of a rolling
    update at full scale, which would otherwise wait for a node that never comes.
    """
    free = CPU_MACHINE_TYPES[cpu_machine_for(pod_millicores)] - SYSTEM_DAEMONS_MILLICORES
    per_node = free // pod_millicores
    return math.ceil(min_replicas / per_node), math.ceil((max_replicas + 1) / per_node)


_BUNDLED_GPUS = re.compile(r"^a[23]-[a-z]+-(?P<count>\d+)g$")
_G2_GPUS = {"24": 2, "48": 4, "96": 8}


def gpus_per_node(machine_type: str) -> int:
    """GPUs an accelerator-optimized machine type comes with (A2/A3 `-<n>g`, G2 by size); else 1."""
    if match := _BUNDLED_GPUS.match(machine_type):
        return int(match["count"])
    if machine_type.startswith("g2-standard-"):
        return _G2_GPUS.get(machine_type.removeprefix("g2-standard-"), 1)
    return 1


MAINTENANCE_WINDOW = gcp.container.ClusterMaintenancePolicyRecurringWindowArgs(
    # The date only anchors the recurrence; GKE reads the times as UTC ("Z", as it reports them,
    # so the provider sees no difference on refresh).
    start_time="2025-01-04T00:00:00Z",
    end_time="2025-01-04T08:00:00Z",
    recurrence="FREQ=WEEKLY;BYDAY=SA,SU",
)
"""Auto-upgrades and other planned GKE maintenance only on weekend nights, 00:00-08:00 UTC. GKE asks
for at least 48 hours of window in any 32 days; eight weekend days of 8 hours give at least 64."""


def kubeconfig_for(*, name: str, dns_endpoint: str) -> str:
    """A kubeconfig for the cluster's DNS-based endpoint that authenticates with `gke-gcloud-auth-plugin`.

    The DNS endpoint is reachable from anywhere (a CI runner too) and admits only callers whose
    IAM identity holds `container.clusters.connect`. It presents a publicly trusted certificate,
    not one from the cluster's CA, so the file pins no CA (as `gcloud container clusters
    get-credentials --dns-endpoint` writes it). It holds no credential: the plugin fetches a
    short-lived token from the caller's gcloud login or application-default credentials on each
    use. JSON is valid YAML.
    """
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": f"https://{dns_endpoint}"}}],
            "users": [
                {
                    "name": name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "gke-gcloud-auth-plugin",
                            "installHint": "Install gke-gcloud-auth-plugin: gcloud components install "
                            "gke-gcloud-auth-plugin (see README, Prod on GKE)",
                            "provideClusterInfo": True,
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "preferences": {},
        },
        indent=2,
    )


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

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:gke:GkeCluster", name, None, opts)
        if not args.zones:
            raise ValueError("a GKE cluster needs at least one zone")
        if not args.authorized_networks:
            raise ValueError("a GKE cluster needs at least one authorized network")
        child = pulumi.ResourceOptions(parent=self)
        location = args.zones[0]

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

        nodes = gcp.serviceaccount.Account(
            f"{name}-nodes",
            # IAM takes 6-30 characters that do not end in a hyphen; a long stack name is cut to fit.
            account_id=f"{args.name}-nodes"[:30].rstrip("-"),
            display_name=f"GKE nodes of {args.name}: logs, metrics, image pulls",
            project=args.project,
            opts=child,
        )
        member = pulumi.Output.concat("serviceAccount:", nodes.email)
        for role in NODE_ROLES:
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.split('/')[-1].replace('.', '-')}",
                project=args.project,
                role=role,
                member=member,
                opts=child,
            )
        for image, repository in args.image_repositories.items():
            gcp.artifactregistry.RepositoryIamMember(
                f"{name}-nodes-pull-{image}",
                project=args.project,
                location=args.region,
                repository=repository,
                role=REGISTRY_READER_ROLE,
                member=member,
                opts=child,
            )

        cluster = gcp.container.Cluster(
            f"{name}",
            name=args.name,
            project=args.project,
            # Zonal control plane: one cluster per billing account gets it free (the GKE free
            # tier credit covers a zonal cluster, not a regional one); the nodes still spread
            # over every zone in `zones`. README "Prod on GKE" has the trade-off.
            location=location,
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
            # The IP endpoint keeps its allowlist, for people's machines (kubectl, pulumi from an office).
            master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                        cidr_block=cidr, display_name=f"authorized-{index}"
                    )
                    for index, cidr in enumerate(args.authorized_networks)
                ],
                # Not every Google Cloud address: only the networks listed.
                gcp_public_cidrs_access_enabled=False,
            ),
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=args.release_channel),
            # Set in place (SetMaintenancePolicy; no ForceNew in the same file).
            maintenance_policy=gcp.container.ClusterMaintenancePolicyArgs(recurring_window=MAINTENANCE_WINDOW),
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=f"{args.project}.svc.id.goog"
            ),
            enable_shielded_nodes=True,
            # Dataplane V2 (eBPF): NetworkPolicies are enforced, with no add-on to manage.
            datapath_provider="ADVANCED_DATAPATH",
            # The default pool cannot be sized or tainted independently; the pools below replace it.
            remove_default_node_pool=True,
            initial_node_count=1,
            # Only the short-lived default pool uses this; it runs as the minimal account too,
            # not as the Compute Engine default service account (an Editor of the project).
            node_config=gcp.container.ClusterNodeConfigArgs(
                service_account=nodes.email,
                oauth_scopes=NODE_SCOPES,
                shielded_instance_config=gcp.container.ClusterNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                workload_metadata_config=gcp.container.ClusterNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
            ),
            deletion_protection=args.deletion_protection,
            resource_labels=dict(args.labels),
            opts=pulumi.ResourceOptions(
                parent=self,
                # The default pool's node_config is gone once that pool is removed; the provider
                # would otherwise see a difference on every refresh and replace the cluster.
                ignore_changes=["nodeConfig"],
            ),
        )

        def pool_node_config(
            machine_type: str, *, disk_gb: int, spot: bool, gpu: bool
        ) -> gcp.container.NodePoolNodeConfigArgs:
            return gcp.container.NodePoolNodeConfigArgs(
                machine_type=machine_type,
                service_account=nodes.email,
                oauth_scopes=NODE_SCOPES,
                disk_type="pd-balanced",
                disk_size_gb=disk_gb,
                spot=spot,
                shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                # Pods see the GKE metadata server, never the node's own credentials.
                workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
                metadata={"disable-legacy-endpoints": "true"},
                resource_labels=dict(args.labels),
                guest_accelerators=[
                    gcp.container.NodePoolNodeConfigGuestAcceleratorArgs(
                        type=args.compute.gpu_type,
                        count=gpus_per_node(machine_type),
                        gpu_driver_installation_config=gcp.container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(
                            gpu_driver_version="DEFAULT"
                        ),
                    )
                ]
                if gpu
                else None,
                taints=[
                    gcp.container.NodePoolNodeConfigTaintArgs(key=GPU_TAINT_KEY, value="present", effect="NO_SCHEDULE")
                ]
                if gpu
                else None,
            )

        management = gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True)
        self.cpu_pool_bounds = cpu_pool_bounds(
            min_replicas=args.serving_min_replicas,
            max_replicas=args.serving_max_replicas,
            pod_millicores=args.serving_cpu_millicores,
        )
        cpu_min, cpu_max = self.cpu_pool_bounds
        # No `name` on the pools: Pulumi auto-names them (`gke-cpu-<random>`), so a change that needs a
        # new pool (spot, accelerator, service account, scopes, metadata, shielded config) creates the
        # new pool first and only then drains and deletes the old one. A fixed name would have to
        # delete first: on the CPU pool, a serving outage. Not `name_prefix`: Pulumi fills in `name`
        # anyway, and the provider refuses both (expandNodePool, resource_container_node_pool.go).
        cpu_pool = gcp.container.NodePool(
            f"{name}-cpu",
            project=args.project,
            cluster=cluster.id,
            location=location,
            node_locations=list(args.zones),
            # Per zone; autoscaling owns the count afterwards.
            initial_node_count=math.ceil(cpu_min / len(args.zones)),
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                # Totals across the zones (min/max_node_count would be per zone).
                total_min_node_count=cpu_min,
                total_max_node_count=cpu_max,
                location_policy="BALANCED",
            ),
            management=management,
            node_config=pool_node_config(
                cpu_machine_for(args.serving_cpu_millicores), disk_gb=50, spot=False, gpu=False
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["initialNodeCount"]),
        )
        gpu_pool = gcp.container.NodePool(
            f"{name}-gpu",
            project=args.project,
            cluster=cluster.id,
            location=location,
            node_locations=list(args.zones),
            initial_node_count=0,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=args.compute.min_nodes,
                total_max_node_count=args.compute.max_nodes,
                # Any zone with capacity: GPUs (spot ones especially) are often short in one.
                location_policy="ANY",
            ),
            management=management,
            node_config=pool_node_config(args.compute.machine_type, disk_gb=100, spot=args.spot, gpu=True),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["initialNodeCount"]),
        )

        self.name = cluster.name
        self.endpoint = cluster.endpoint
        self.context = f"gke_{args.project}_{location}_{args.name}"
        # GKE's token issuer is the cluster's v1 API URL; its OIDC discovery document and keys
        # are public at <issuer>/.well-known/openid-configuration, which is what AWS reads.
        self.issuer_url = pulumi.Output.concat("https://container.googleapis.com/v1/", cluster.id)
        self.dns_endpoint = cluster.control_plane_endpoints_config.apply(_dns_endpoint)
        self.kubeconfig = pulumi.Output.secret(
            self.dns_endpoint.apply(lambda endpoint: kubeconfig_for(name=self.context, dns_endpoint=endpoint))
        )
        self.provider = k8s.Provider(
            f"{name}-k8s",
            # The DNS endpoint: the program also runs on CI runners, outside the authorized networks.
            kubeconfig=self.kubeconfig,
            # Replace the provider (and so every Kubernetes object on it) only when the cluster is a
            # new one. Without this, pulumi-kubernetes replaces them whenever the kubeconfig's
            # server or CA changes (DiffConfig), e.g. on a switch of endpoint or a CA rotation. The
            # context names project, location and cluster: exactly what replaces the cluster.
            cluster_identifier=self.context,
            # Wait for the pools: a workload registered on a cluster without nodes never starts.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cpu_pool, gpu_pool]),
        )
        self.node_service_account = nodes.email
        self.gpu_pool_name = gpu_pool.name
        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "dnsEndpoint": self.dns_endpoint,
                "issuerUrl": self.issuer_url,
                "kubeconfig": self.kubeconfig,
            }
        )


def _dns_endpoint(config: gcp.container.outputs.ClusterControlPlaneEndpointsConfig | None) -> str:
    endpoint = config.dns_endpoint_config.endpoint if config and config.dns_endpoint_config else None
    if not endpoint:
        raise ValueError("GKE reported no DNS endpoint for the cluster")
    return endpoint


INTERNAL_LOAD_BALANCER = {"networking.gke.io/load-balancer-type": "Internal"}


def load_balancer_annotations(*, public: bool) -> dict[str, str]:
    """Annotations for a Service of type LoadBalancer: an internal passthrough load balancer
    (reachable from the cluster's VPC only) unless a public one is asked for explicitly."""
    return {} if public else dict(INTERNAL_LOAD_BALANCER)
