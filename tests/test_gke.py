"""prod's GKE cluster: private, locked-down, a CPU pool for serving and a GPU pool that scales to zero."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.gke import (
    cpu_machine_for,
    cpu_pool_bounds,
    gpus_per_node,
    load_balancer_annotations,
)
from offline.engine import Recording, Registration, run_program, stack_config, stack_config_with
from tests import gke_api_rules
from tests.manifests import manifests
from tests.support import RunWith

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
ROUTER = "gcp:compute/router:Router"
NAT = "gcp:compute/routerNat:RouterNat"
SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
REPOSITORY_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
K8S_PROVIDER = "pulumi:providers:kubernetes"
SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
PROJECT = "mlops-prod-123456"

# dev with GKE, to compare what only prod gets.
DEV_ON_GKE = {
    "mlops:compute": {"kind": "gke"},
    "mlops:registry": {"kind": "artifact-registry"},
    "mlops:serving": {"cluster": "gke"},
    "mlops:gke": {"project": "mlops-dev-123456", "zones": ["us-central1-a"], "authorizedNetworks": ["198.51.100.0/24"]},
}


# prod with other choices wherever the GKE settings follow from config.
PROD_VARIANT = {
    "mlops:compute": {"spot": True, "machineType": "g2-standard-24", "minNodes": 1, "maxNodes": 3},
    "mlops:serving": {"cpu": 2, "minReplicas": 4, "maxReplicas": 8},
    "mlops:gke": {
        "releaseChannel": "STABLE",
        "zones": ["us-central1-a", "us-central1-b", "us-central1-c"],
        "authorizedNetworks": ["203.0.113.0/24", "198.51.100.0/24"],
    },
}
LONG_STACK = "prod-europe-west4-abcde"
"""A stack name that makes `mlops-<stack>-nodes` longer than a service account id may be."""


@pytest.fixture(scope="module")
def dev_on_gke() -> Recording:
    return run_program("dev", stack_config_with("dev", DEV_ON_GKE))


@pytest.fixture(scope="module")
def prod_variant() -> Recording:
    return run_program("prod", stack_config_with("prod", PROD_VARIANT))


@pytest.fixture(scope="module")
def long_stack() -> Recording:
    return run_program(LONG_STACK, stack_config("prod"))


def cluster(recording: Recording) -> dict[str, Any]:
    return recording.one(CLUSTER).inputs


def pool(recording: Recording, name: str) -> Registration:
    return recording.get(NODE_POOL, f"gke-{name}")


def test_nodes_have_no_public_address(prod: Recording) -> None:
    assert cluster(prod)["privateClusterConfig"]["enablePrivateNodes"] is True


def test_control_plane_ip_endpoint_admits_exactly_the_authorized_networks(prod: Recording) -> None:
    config = cluster(prod)["masterAuthorizedNetworksConfig"]
    assert [block["cidrBlock"] for block in config["cidrBlocks"]] == ["203.0.113.0/24"]
    assert config["gcpPublicCidrsAccessEnabled"] is False, "not every Google Cloud address either"


def test_control_plane_dns_endpoint_admits_traffic_from_outside_google(prod: Recording) -> None:
    # Without it the DNS endpoint serves Google's own services only, and a hosted CI runner
    # (never in the authorized networks) could not reach the cluster at all.
    endpoints = cluster(prod)["controlPlaneEndpointsConfig"]
    assert endpoints["dnsEndpointConfig"]["allowExternalTraffic"] is True


def test_control_plane_dns_endpoint_takes_no_kubernetes_tokens_or_certificates(prod: Recording) -> None:
    # Only IAM-authenticated callers: a leaked ServiceAccount token or client certificate
    # must not work through the endpoint that every network can reach.
    dns = cluster(prod)["controlPlaneEndpointsConfig"]["dnsEndpointConfig"]
    assert (dns.get("enableK8sTokensViaDns"), dns.get("enableK8sCertsViaDns")) == (None, None)


def test_cluster_has_a_weekend_night_maintenance_window(prod: Recording) -> None:
    # Without a window GKE upgrades the control plane and the nodes at any hour of any day.
    # Sat and Sun 00:00-08:00 UTC: 8 weekend days x 8 h >= 64 h in any 32 days (GKE wants >= 48).
    assert cluster(prod)["maintenancePolicy"] == {
        "recurringWindow": {
            "startTime": "2025-01-04T00:00:00Z",
            "endTime": "2025-01-04T08:00:00Z",
            "recurrence": "FREQ=WEEKLY;BYDAY=SA,SU",
        }
    }


def test_nothing_on_google_cloud_is_open_to_the_whole_internet(prod: Recording) -> None:
    gcp = [r for r in prod.resources if r.type.startswith("gcp:")]
    assert gcp, "prod has Google Cloud resources"
    assert not [r.name for r in gcp if "0.0.0.0/0" in json.dumps(r.inputs)]


def test_cluster_follows_the_regular_release_channel(prod: Recording) -> None:
    assert cluster(prod)["releaseChannel"] == {"channel": "REGULAR"}


def test_workload_identity_uses_the_project_pool(prod: Recording) -> None:
    assert cluster(prod)["workloadIdentityConfig"] == {"workloadPool": f"{PROJECT}.svc.id.goog"}


def test_nodes_are_shielded(prod: Recording) -> None:
    assert cluster(prod)["enableShieldedNodes"] is True
    for name in ("cpu", "gpu"):
        shielded = pool(prod, name).inputs["nodeConfig"]["shieldedInstanceConfig"]
        assert shielded == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}, name


def test_pods_see_the_gke_metadata_server_not_the_node_credentials(prod: Recording) -> None:
    for name in ("cpu", "gpu"):
        assert pool(prod, name).inputs["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}, name


def test_dataplane_v2_enforces_network_policies(prod: Recording) -> None:
    assert cluster(prod)["datapathProvider"] == "ADVANCED_DATAPATH"


def test_default_node_pool_is_removed(prod: Recording) -> None:
    assert cluster(prod)["removeDefaultNodePool"] is True
    assert sorted(r.name for r in prod.of_type(NODE_POOL)) == ["gke-cpu", "gke-gpu"]


def test_no_node_pool_has_a_fixed_name(prod: Recording) -> None:
    # A fixed name makes every replacement (spot, accelerator, scopes, ...) delete the old
    # pool before the new one exists: on the CPU pool, a serving outage.
    # Sorted: registrations may arrive in either order.
    fixed = sorted((r.name, r.inputs.get("name"), r.inputs.get("namePrefix")) for r in prod.of_type(NODE_POOL))
    assert fixed == [("gke-cpu", None, None), ("gke-gpu", None, None)]


def test_pool_replacement_creates_before_delete(prod: Recording) -> None:
    assert sorted((r.name, r.delete_before_replace) for r in prod.of_type(NODE_POOL)) == [
        ("gke-cpu", False),
        ("gke-gpu", False),
    ]


def test_pool_names_are_unique_in_the_stack(prod: Recording) -> None:
    names = [r.state["name"] for r in prod.of_type(NODE_POOL)]
    assert len(set(names)) == len(names) == 2


def test_prod_cluster_has_deletion_protection(prod: Recording) -> None:
    assert cluster(prod)["deletionProtection"] is True


def test_dev_cluster_has_no_deletion_protection(dev_on_gke: Recording) -> None:
    assert cluster(dev_on_gke)["deletionProtection"] is False


def test_prod_teardown_lifts_deletion_protection(run_with: RunWith) -> None:
    assert cluster(run_with("prod", **{"mlops:teardown": "true"}))["deletionProtection"] is False


def test_cluster_is_vpc_native_on_the_subnet_secondary_ranges(prod: Recording) -> None:
    subnet = prod.one(SUBNET)
    ranges = {r["rangeName"]: r["ipCidrRange"] for r in subnet.inputs["secondaryIpRanges"]}
    assert ranges == {"pods": "10.20.0.0/16", "services": "10.30.0.0/20"}
    inputs = cluster(prod)
    assert inputs["networkingMode"] == "VPC_NATIVE"
    assert inputs["ipAllocationPolicy"] == {"clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services"}
    assert inputs["subnetwork"] == subnet.id


def test_cluster_has_a_network_of_its_own(prod: Recording) -> None:
    network = prod.one(NETWORK)
    assert network.inputs["autoCreateSubnetworks"] is False
    assert cluster(prod)["network"] == network.id
    assert prod.one(SUBNET).inputs["network"] == network.id


def test_nodes_reach_google_apis_privately(prod: Recording) -> None:
    assert prod.one(SUBNET).inputs["privateIpGoogleAccess"] is True


def test_private_nodes_egress_through_cloud_nat(prod: Recording) -> None:
    router, nat = prod.one(ROUTER), prod.one(NAT)
    assert router.inputs["network"] == prod.one(NETWORK).id
    assert nat.inputs["router"] == router.inputs["name"]
    assert nat.inputs["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    assert nat.inputs["subnetworks"] == [{"name": prod.one(SUBNET).id, "sourceIpRangesToNats": ["ALL_IP_RANGES"]}]


def test_control_plane_is_zonal_and_nodes_span_the_zones(prod: Recording) -> None:
    assert cluster(prod)["location"] == "us-central1-a"
    for name in ("cpu", "gpu"):
        assert pool(prod, name).inputs["nodeLocations"] == ["us-central1-a", "us-central1-b"], name


def test_cpu_pool_is_sized_for_the_serving_replicas(prod: Recording) -> None:
    # prod serves 2..6 one-CPU pods; an e2-standard-2 holds one, plus one node for a rollout's surge pod.
    autoscaling = pool(prod, "cpu").inputs["autoscaling"]
    assert (autoscaling["totalMinNodeCount"], autoscaling["totalMaxNodeCount"]) == (2, 7)
    assert pool(prod, "cpu").inputs["nodeConfig"]["machineType"] == "e2-standard-2"


@pytest.mark.parametrize(("millicores", "machine"), [(1000, "e2-standard-2"), (2000, "e2-standard-4"), (4000, "e2-standard-8")])
def test_cpu_pool_machine_holds_one_serving_pod(millicores: int, machine: str) -> None:
    assert cpu_machine_for(millicores) == machine


@pytest.mark.parametrize(
    ("replicas", "millicores", "bounds"), [((2, 6), 1000, (2, 7)), ((2, 6), 500, (1, 3)), ((1, 1), 250, (1, 1))]
)
def test_cpu_pool_bounds_follow_pods_per_node(replicas: tuple[int, int], millicores: int, bounds: tuple[int, int]) -> None:
    assert cpu_pool_bounds(min_replicas=replicas[0], max_replicas=replicas[1], pod_millicores=millicores) == bounds


def test_a_serving_pod_larger_than_a_node_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        cpu_pool_bounds(min_replicas=1, max_replicas=2, pod_millicores=16000)


def test_cpu_pool_has_no_gpu_and_no_taint(prod: Recording) -> None:
    config = pool(prod, "cpu").inputs["nodeConfig"]
    assert not config.get("guestAccelerators")
    assert not config.get("taints")


def test_gpu_pool_installs_the_nvidia_driver(prod: Recording) -> None:
    [accelerator] = pool(prod, "gpu").inputs["nodeConfig"]["guestAccelerators"]
    assert accelerator["type"] == "nvidia-l4"
    assert accelerator["count"] == 1
    assert accelerator["gpuDriverInstallationConfig"] == {"gpuDriverVersion": "DEFAULT"}
    assert pool(prod, "gpu").inputs["nodeConfig"]["machineType"] == "g2-standard-4"


def test_gpu_pool_scales_between_min_and_max_nodes_from_zero(prod: Recording) -> None:
    autoscaling = pool(prod, "gpu").inputs["autoscaling"]
    assert (autoscaling["totalMinNodeCount"], autoscaling["totalMaxNodeCount"]) == (0, 4)
    assert pool(prod, "gpu").inputs["initialNodeCount"] == 0


def test_prod_gpu_pool_is_on_demand(prod: Recording) -> None:
    assert pool(prod, "gpu").inputs["nodeConfig"]["spot"] is False


def test_gpu_pool_uses_spot_capacity_when_asked(prod_variant: Recording, dev_on_gke: Recording) -> None:
    # dev's default (compute.spot unset: true in dev) and prod's explicit `spot: true`.
    assert pool(prod_variant, "gpu").inputs["nodeConfig"]["spot"] is True
    assert pool(dev_on_gke, "gpu").inputs["nodeConfig"]["spot"] is True


def test_serving_pool_is_never_on_spot_capacity(prod_variant: Recording, dev_on_gke: Recording) -> None:
    # A spot reclaim of serving nodes takes pods down at once, whatever the PDB says.
    assert pool(prod_variant, "cpu").inputs["nodeConfig"]["spot"] is False
    assert pool(dev_on_gke, "cpu").inputs["nodeConfig"]["spot"] is False


def test_gpu_pool_admits_only_pods_that_tolerate_the_gpu_taint(prod: Recording) -> None:
    taints = pool(prod, "gpu").inputs["nodeConfig"]["taints"]
    assert taints == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]


@pytest.mark.parametrize(
    ("machine_type", "gpus"),
    [("g2-standard-4", 1), ("g2-standard-24", 2), ("g2-standard-96", 8), ("a2-highgpu-2g", 2), ("a3-highgpu-8g", 8), ("n1-standard-8", 1)],
)
def test_gpu_count_matches_the_machine_type(machine_type: str, gpus: int) -> None:
    assert gpus_per_node(machine_type) == gpus


def node_account(recording: Recording) -> Registration:
    return recording.get(SERVICE_ACCOUNT, "gke-nodes")


def test_nodes_run_as_their_dedicated_service_account(prod: Recording) -> None:
    email = node_account(prod).state["email"]
    assert email == f"mlops-prod-nodes@{PROJECT}.iam.gserviceaccount.com"
    for name in ("cpu", "gpu"):
        assert pool(prod, name).inputs["nodeConfig"]["serviceAccount"] == email, name
    assert cluster(prod)["nodeConfig"]["serviceAccount"] == email, "the short-lived default pool too"


def test_node_service_account_has_the_default_node_role_on_the_project(prod: Recording) -> None:
    # Google's documented minimum for a node service account; without it nodes ship no logs
    # or metrics, and GKE flags the cluster's node identity as misconfigured.
    [grant] = prod.of_type(PROJECT_MEMBER)
    assert (grant.inputs["project"], grant.inputs["role"], grant.inputs["member"]) == (
        PROJECT,
        "roles/container.defaultNodeServiceAccount",
        f"serviceAccount:mlops-prod-nodes@{PROJECT}.iam.gserviceaccount.com",
    )


def test_node_service_account_has_exactly_the_node_role_and_image_reads(prod: Recording) -> None:
    member = f"serviceAccount:{node_account(prod).state['email']}"
    grants = [r.inputs for r in prod.resources if r.type in (PROJECT_MEMBER, REPOSITORY_MEMBER) and r.inputs["member"] == member]
    assert sorted(g["role"] for g in grants) == [
        "roles/artifactregistry.reader",
        "roles/container.defaultNodeServiceAccount",
    ]


def test_nodes_read_only_the_release_repository(prod: Recording) -> None:
    [grant] = prod.of_type(REPOSITORY_MEMBER)
    release = prod.get("gcp:artifactregistry/repository:Repository", "registry-images")
    assert grant.inputs["repository"] == release.id == f"projects/{PROJECT}/locations/us-central1/repositories/mlops-prod"


def test_kubeconfig_output_is_secret(prod: Recording) -> None:
    assert "kubeconfig" in prod.secret_outputs


def test_kubeconfig_authenticates_through_gke_gcloud_auth_plugin(prod: Recording) -> None:
    kubeconfig = json.loads(prod.outputs["kubeconfig"])
    [user] = kubeconfig["users"]
    assert set(user["user"]) == {"exec"}, "no token, password or client key in the file"
    assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"


def test_kubeconfig_points_at_the_dns_endpoint(prod: Recording) -> None:
    # The program's own Kubernetes provider uses this file; on the IP endpoint a CI runner
    # (outside the authorized networks) would time out. The DNS endpoint has a publicly
    # trusted certificate, so the cluster CA is not pinned (it would fail verification).
    [entry] = json.loads(prod.outputs["kubeconfig"])["clusters"]
    assert entry["cluster"] == {
        "server": "https://gke-0f1e2d3c4b5a69788796a5b4c3d2e1f0-123456789012.us-central1.gke.goog"
    }


def test_kubernetes_provider_is_built_from_the_secret_kubeconfig(prod: Recording) -> None:
    provider = prod.get(K8S_PROVIDER, "gke-k8s")
    kubeconfig = provider.inputs["kubeconfig"]
    assert kubeconfig[SECRET_SIGNATURE_KEY], "marked secret in state"
    assert json.loads(kubeconfig["value"]) == json.loads(prod.outputs["kubeconfig"])


def test_kubernetes_provider_is_replaced_only_with_the_cluster(prod: Recording) -> None:
    # Without clusterIdentifier, pulumi-kubernetes replaces the provider, and every object
    # on it, when the kubeconfig's server or CA changes: a namespace deleted and recreated.
    provider = prod.get(K8S_PROVIDER, "gke-k8s")
    assert provider.inputs["clusterIdentifier"] == f"gke_{PROJECT}_us-central1-a_mlops-prod"


def test_cluster_outputs_name_and_issuer(prod: Recording) -> None:
    assert prod.outputs["clusterName"] == "mlops-prod"
    assert prod.outputs["clusterIssuer"] == (
        f"https://container.googleapis.com/v1/projects/{PROJECT}/locations/us-central1-a/clusters/mlops-prod"
    )


def test_serving_goes_through_an_internal_load_balancer_by_default() -> None:
    assert load_balancer_annotations(public=False) == {"networking.gke.io/load-balancer-type": "Internal"}


def test_a_public_load_balancer_only_when_asked() -> None:
    assert load_balancer_annotations(public=True) == {}


def test_google_cloud_resources_carry_the_stack_labels(prod: Recording) -> None:
    [provider] = prod.of_type("pulumi:providers:gcp")
    labels = json.loads(provider.inputs["defaultLabels"]) if isinstance(provider.inputs["defaultLabels"], str) else provider.inputs["defaultLabels"]
    assert labels == {"project": "mlops", "stack": "prod", "environment": "prod", "managed-by": "pulumi"}
    assert provider.inputs["project"] == PROJECT
    gcp = [r.name for r in prod.resources if r.type.startswith("gcp:") and not r.provider.startswith(provider.urn)]
    assert gcp == [], "every Google Cloud resource goes through the labelling provider"


def test_dev_stays_on_aws(dev: Recording) -> None:
    assert not [r.type for r in dev.resources if r.type.startswith(("gcp:", "pulumi:providers:gcp"))]


def test_workloads_wait_for_both_node_pools(prod: Recording) -> None:
    # A workload registered on a cluster with no nodes would only sit Pending.
    dependencies = prod.get(K8S_PROVIDER, "gke-k8s").dependencies
    assert {pool(prod, "cpu").urn, pool(prod, "gpu").urn} <= set(dependencies)


# --- Exact values of every deliberate setting (issue 14) -------------------------------------------

GKE_COMPONENT = "mlops:gke:GkeCluster"
STACK_LABELS = {"project": "mlops", "stack": "prod", "environment": "prod", "managed-by": "pulumi"}
DEV_LABELS = {**STACK_LABELS, "stack": "dev", "environment": "dev"}
CLOUD_PLATFORM = ["https://www.googleapis.com/auth/cloud-platform"]


def test_gke_resources_belong_to_the_cluster_component(prod: Recording) -> None:
    # Outside the component their URNs change: pulumi would delete and recreate the network and cluster.
    component = prod.get(GKE_COMPONENT, "gke")
    children = sorted(r.name for r in prod.children_of(component))
    assert children == [
        "gke", "gke-cpu", "gke-gpu", "gke-k8s", "gke-nat", "gke-network", "gke-nodes",
        "gke-nodes-container-defaultNodeServiceAccount", "gke-nodes-pull-images", "gke-router", "gke-subnet",
    ]


def test_refresh_never_replaces_the_cluster_for_the_removed_default_pool(prod: Recording) -> None:
    # After remove_default_node_pool, GKE reports no nodeConfig; diffed, the provider would plan a
    # replacement of the prod cluster (ForceNew) on every refresh.
    assert prod.one(CLUSTER).ignore_changes == ("nodeConfig",)


def test_autoscaler_owns_the_pool_node_counts(prod: Recording) -> None:
    # initialNodeCount is ForceNew: diffed against the autoscaled size, every change would replace the pool.
    assert [(r.name, r.ignore_changes) for r in prod.of_type(NODE_POOL)] == [
        ("gke-cpu", ("initialNodeCount",)),
        ("gke-gpu", ("initialNodeCount",)),
    ]


def test_pools_repair_and_upgrade_their_nodes(prod: Recording) -> None:
    # Without auto repair a broken node stays broken; without auto upgrade a release-channel cluster is refused.
    for name in ("cpu", "gpu"):
        assert pool(prod, name).inputs["management"] == {"autoRepair": True, "autoUpgrade": True}, name


def test_pools_belong_to_the_cluster_in_its_project_and_zone(prod: Recording) -> None:
    for name in ("cpu", "gpu"):
        inputs = pool(prod, name).inputs
        assert (inputs["project"], inputs["cluster"], inputs["location"]) == (
            PROJECT, f"projects/{PROJECT}/locations/us-central1-a/clusters/mlops-prod", "us-central1-a"
        ), name


def test_pool_nodes_span_every_configured_zone(prod_variant: Recording) -> None:
    for name in ("cpu", "gpu"):
        assert pool(prod_variant, name).inputs["nodeLocations"] == ["us-central1-a", "us-central1-b", "us-central1-c"]


def test_serving_pool_balances_zones_and_gpu_pool_takes_any(prod: Recording) -> None:
    # BALANCED keeps serving nodes in every zone (a zone outage leaves replicas); ANY finds GPUs where they are.
    assert pool(prod, "cpu").inputs["autoscaling"]["locationPolicy"] == "BALANCED"
    assert pool(prod, "gpu").inputs["autoscaling"]["locationPolicy"] == "ANY"


def test_pools_autoscale_on_total_counts_only(prod: Recording) -> None:
    # Per-zone min/max would multiply the bounds by the zone count (and GKE refuses both kinds together).
    for name in ("cpu", "gpu"):
        assert set(pool(prod, name).inputs["autoscaling"]) == {"locationPolicy", "totalMinNodeCount", "totalMaxNodeCount"}


def test_cpu_pool_bounds_follow_another_config(prod_variant: Recording, dev_on_gke: Recording) -> None:
    # prod_variant: 4..8 two-core pods, one per e2-standard-4, plus the surge pod; dev: 1..2 one-core pods.
    variant, dev = pool(prod_variant, "cpu").inputs, pool(dev_on_gke, "cpu").inputs
    assert (variant["autoscaling"]["totalMinNodeCount"], variant["autoscaling"]["totalMaxNodeCount"]) == (4, 9)
    assert variant["nodeConfig"]["machineType"] == "e2-standard-4"
    assert (dev["autoscaling"]["totalMinNodeCount"], dev["autoscaling"]["totalMaxNodeCount"]) == (1, 3)
    assert dev["nodeConfig"]["machineType"] == "e2-standard-2"


def test_cpu_pool_starts_with_its_minimum_spread_over_the_zones(prod: Recording, prod_variant: Recording) -> None:
    # initialNodeCount is per zone: 2 nodes over 2 zones is 1 each; 4 over 3 zones, 2 each (6 >= 4).
    assert pool(prod, "cpu").inputs["initialNodeCount"] == 1
    assert pool(prod_variant, "cpu").inputs["initialNodeCount"] == 2


def test_gpu_pool_starts_empty_even_with_a_minimum(prod_variant: Recording) -> None:
    # The autoscaler brings it to minNodes; a created node per zone would bill GPUs nobody asked for.
    assert pool(prod_variant, "gpu").inputs["initialNodeCount"] == 0
    autoscaling = pool(prod_variant, "gpu").inputs["autoscaling"]
    assert (autoscaling["totalMinNodeCount"], autoscaling["totalMaxNodeCount"]) == (1, 3)


def test_dev_gpu_pool_scales_to_one_node(dev_on_gke: Recording) -> None:
    autoscaling = pool(dev_on_gke, "gpu").inputs["autoscaling"]
    assert (autoscaling["totalMinNodeCount"], autoscaling["totalMaxNodeCount"]) == (0, 1)


def test_gpu_pool_takes_the_machine_and_its_bundled_gpus_from_config(prod_variant: Recording) -> None:
    config = pool(prod_variant, "gpu").inputs["nodeConfig"]
    assert config["machineType"] == "g2-standard-24"
    assert config["guestAccelerators"] == [
        {"type": "nvidia-l4", "count": 2, "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"}}
    ]


def test_pool_disks_are_balanced_pd_sized_per_pool(prod: Recording) -> None:
    # 50 GB holds the serving image and logs; a training node pulls CUDA images and needs 100.
    disks = {name: (pool(prod, name).inputs["nodeConfig"]["diskType"], pool(prod, name).inputs["nodeConfig"]["diskSizeGb"]) for name in ("cpu", "gpu")}
    assert disks == {"cpu": ("pd-balanced", 50), "gpu": ("pd-balanced", 100)}


def test_nodes_refuse_the_legacy_metadata_endpoints(prod: Recording) -> None:
    # The v1beta1 metadata endpoint hands out credentials without the Metadata-Flavor header (SSRF).
    for name in ("cpu", "gpu"):
        assert pool(prod, name).inputs["nodeConfig"]["metadata"] == {"disable-legacy-endpoints": "true"}, name


def test_nodes_have_the_one_cloud_platform_scope(prod: Recording) -> None:
    # Scopes and IAM both gate a node's calls: with the one broad scope the minimal node account alone
    # decides (Google's advice); a narrow list silently denies calls its roles allow (autoscaler metrics).
    for name in ("cpu", "gpu"):
        assert pool(prod, name).inputs["nodeConfig"]["oauthScopes"] == CLOUD_PLATFORM, name
    assert cluster(prod)["nodeConfig"]["oauthScopes"] == CLOUD_PLATFORM


def test_default_pool_nodes_are_shielded_and_see_only_the_gke_metadata_server(prod: Recording) -> None:
    # The short-lived default pool runs too; it must not be the weakest node of the cluster.
    config = cluster(prod)["nodeConfig"]
    assert config["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
    assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}


def test_nodes_and_cluster_carry_the_stack_labels(prod: Recording, dev_on_gke: Recording) -> None:
    # Billing exports group the GKE cost by these labels.
    for recording, labels in ((prod, STACK_LABELS), (dev_on_gke, DEV_LABELS)):
        assert cluster(recording)["resourceLabels"] == labels
        for name in ("cpu", "gpu"):
            assert pool(recording, name).inputs["nodeConfig"]["resourceLabels"] == labels, name


def test_serving_pool_has_no_gpu_taint_or_accelerator(prod: Recording) -> None:
    config = pool(prod, "cpu").inputs["nodeConfig"]
    assert ("guestAccelerators" in config, "taints" in config) == (False, False)


def test_cluster_is_created_with_one_short_lived_default_node(prod: Recording) -> None:
    # GKE creates no cluster without a node; more would only cost until the pool is removed.
    assert cluster(prod)["initialNodeCount"] == 1


def test_cluster_is_named_for_the_stack_in_its_project(prod: Recording) -> None:
    assert (cluster(prod)["name"], cluster(prod)["project"]) == ("mlops-prod", PROJECT)


def test_control_plane_endpoint_is_public_but_allowlisted(prod: Recording) -> None:
    # A private endpoint would lock pulumi and kubectl out; private nodes keep the nodes unreachable.
    assert cluster(prod)["privateClusterConfig"] == {"enablePrivateNodes": True, "enablePrivateEndpoint": False}


def test_every_authorized_network_gets_its_own_named_block(prod_variant: Recording) -> None:
    assert cluster(prod_variant)["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [
            {"cidrBlock": "203.0.113.0/24", "displayName": "authorized-0"},
            {"cidrBlock": "198.51.100.0/24", "displayName": "authorized-1"},
        ],
        "gcpPublicCidrsAccessEnabled": False,
    }


def test_release_channel_follows_config(prod_variant: Recording) -> None:
    assert cluster(prod_variant)["releaseChannel"] == {"channel": "STABLE"}


def test_dev_workload_identity_uses_the_dev_project_pool(dev_on_gke: Recording) -> None:
    assert cluster(dev_on_gke)["workloadIdentityConfig"] == {"workloadPool": "mlops-dev-123456.svc.id.goog"}


def test_cluster_leaves_logging_and_monitoring_at_gke_defaults(prod: Recording) -> None:
    # Unset, GKE collects system and workload logs and system metrics; a partial config would drop workload logs.
    assert ("loggingConfig" in cluster(prod), "monitoringConfig" in cluster(prod)) == (False, False)


def test_network_is_custom_mode_with_regional_routing(prod: Recording) -> None:
    inputs = prod.one(NETWORK).inputs
    assert (inputs["name"], inputs["autoCreateSubnetworks"], inputs["routingMode"]) == ("mlops-prod", False, "REGIONAL")


def test_node_subnet_range_and_region(prod: Recording) -> None:
    inputs = prod.one(SUBNET).inputs
    assert (inputs["name"], inputs["region"], inputs["ipCidrRange"]) == ("mlops-prod-nodes", "us-central1", "10.10.0.0/20")


def test_subnet_flow_logs_sample_a_tenth_every_ten_minutes(prod: Recording) -> None:
    # Flow logs for incident review, at a tenth of the full logging bill.
    assert prod.one(SUBNET).inputs["logConfig"] == {
        "aggregationInterval": "INTERVAL_10_MIN", "flowSampling": 0.1, "metadata": "INCLUDE_ALL_METADATA"
    }


def test_router_sits_in_the_cluster_region(prod: Recording) -> None:
    inputs = prod.one(ROUTER).inputs
    assert (inputs["name"], inputs["region"]) == ("mlops-prod-router", "us-central1")


def test_nat_gives_only_the_node_subnet_automatic_addresses_and_logs_errors(prod: Recording) -> None:
    assert prod.one(NAT).inputs == {
        "name": "mlops-prod-nat",
        "router": "mlops-prod-router",
        "region": "us-central1",
        "natIpAllocateOption": "AUTO_ONLY",
        "sourceSubnetworkIpRangesToNat": "LIST_OF_SUBNETWORKS",
        "subnetworks": [{"name": prod.one(SUBNET).id, "sourceIpRangesToNats": ["ALL_IP_RANGES"]}],
        "logConfig": {"enable": True, "filter": "ERRORS_ONLY"},
    }


def test_node_service_account_is_named_for_the_stack(prod: Recording) -> None:
    assert node_account(prod).inputs == {
        "accountId": "mlops-prod-nodes",
        "displayName": "GKE nodes of mlops-prod: logs, metrics, image pulls",
        "project": PROJECT,
    }


def test_a_long_stack_name_still_makes_a_valid_service_account_id(long_stack: Recording) -> None:
    # IAM takes 6-30 characters, no trailing hyphen: cut to 30, "mlops-prod-europe-west4-abcde-" would be refused.
    assert node_account(long_stack).inputs["accountId"] == "mlops-prod-europe-west4-abcde"


def test_nodes_pull_from_the_release_repository_in_its_region(prod: Recording) -> None:
    assert prod.one(REPOSITORY_MEMBER).inputs == {
        "project": PROJECT,
        "location": "us-central1",
        "repository": f"projects/{PROJECT}/locations/us-central1/repositories/mlops-prod",
        "role": "roles/artifactregistry.reader",
        "member": f"serviceAccount:mlops-prod-nodes@{PROJECT}.iam.gserviceaccount.com",
    }


KUBECONFIG_CONTEXT = f"gke_{PROJECT}_us-central1-a_mlops-prod"
EXPECTED_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [
        {
            "name": KUBECONFIG_CONTEXT,
            "cluster": {"server": "https://gke-0f1e2d3c4b5a69788796a5b4c3d2e1f0-123456789012.us-central1.gke.goog"},
        }
    ],
    "users": [
        {
            "name": KUBECONFIG_CONTEXT,
            "user": {
                "exec": {
                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                    "command": "gke-gcloud-auth-plugin",
                    "installHint": "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin "
                    "(see README, Prod on GKE)",
                    "provideClusterInfo": True,
                    "interactiveMode": "Never",
                }
            },
        }
    ],
    "contexts": [{"name": KUBECONFIG_CONTEXT, "context": {"cluster": KUBECONFIG_CONTEXT, "user": KUBECONFIG_CONTEXT}}],
    "current-context": KUBECONFIG_CONTEXT,
    "preferences": {},
}


def test_kubeconfig_is_exactly_the_plugin_config_gcloud_writes(prod: Recording) -> None:
    # kubectl needs the context, cluster and user to name each other; the plugin needs the
    # v1beta1 exec API and, on CI, interactiveMode Never (no prompt that hangs a job).
    assert json.loads(prod.outputs["kubeconfig"]) == EXPECTED_KUBECONFIG


def test_kubeconfig_text_is_stable(prod: Recording) -> None:
    # The provider's kubeconfig input is this text: a reformat is a diff on the provider of every stack.
    assert prod.outputs["kubeconfig"] == json.dumps(EXPECTED_KUBECONFIG, indent=2)


def test_kubernetes_provider_takes_exactly_the_kubeconfig_and_cluster_identity(prod: Recording) -> None:
    # No context or namespace option: the kubeconfig's only context and each object's own namespace.
    provider = prod.get(K8S_PROVIDER, "gke-k8s")
    assert set(provider.inputs) == {"kubeconfig", "clusterIdentifier"}
    assert provider.parent == prod.get(GKE_COMPONENT, "gke").urn


def test_kubernetes_provider_waits_for_the_cluster_and_both_pools(prod: Recording) -> None:
    dependencies = set(prod.get(K8S_PROVIDER, "gke-k8s").dependencies)
    assert dependencies == {prod.one(CLUSTER).urn, pool(prod, "cpu").urn, pool(prod, "gpu").urn}


def test_node_pools_wait_for_the_cluster_and_the_node_account(prod: Recording) -> None:
    for name in ("cpu", "gpu"):
        assert set(pool(prod, name).dependencies) == {prod.one(CLUSTER).urn, node_account(prod).urn}, name


@pytest.mark.parametrize("cpu", [1530, 1531, 3520, 3521, 7510, 7511, 15490])
def test_cpu_machine_is_the_smallest_with_room_beside_the_daemons(cpu: int) -> None:
    # Allocatable CPU minus 400m of per-node DaemonSets: 1530m fits an e2-standard-2, 1531m does not.
    expected = {1530: "e2-standard-2", 1531: "e2-standard-4", 3520: "e2-standard-4", 3521: "e2-standard-8",
                7510: "e2-standard-8", 7511: "e2-standard-16", 15490: "e2-standard-16"}
    assert cpu_machine_for(cpu) == expected[cpu]


def test_a_pod_too_large_names_the_largest_machine_and_its_room() -> None:
    with pytest.raises(ValueError) as raised:
        cpu_machine_for(15491)
    assert str(raised.value) == "a serving pod of 15491m CPU does not fit even a e2-standard-16 node (15490m free)"


@pytest.mark.parametrize(("machine_type", "gpus"), [("g2-standard-48", 4), ("g2-standard-8", 1), ("g2-standard-32", 1), ("a2-ultragpu-1g", 1)])
def test_gpu_count_of_the_other_machine_sizes(machine_type: str, gpus: int) -> None:
    assert gpus_per_node(machine_type) == gpus


def test_cluster_args_are_immutable_with_empty_defaults() -> None:
    # Frozen: the component reads args after creating children; a caller's later change would not apply.
    from dataclasses import FrozenInstanceError

    from components.config import ComputeConfig
    from components.gke import GkeClusterArgs

    args = GkeClusterArgs(
        project="p-123456", region="r", zones=["r-a"], name="n", release_channel="REGULAR", authorized_networks=["10.0.0.0/8"],
        deletion_protection=False, compute=ComputeConfig(), spot=False, serving_min_replicas=1, serving_max_replicas=1,
        serving_cpu_millicores=1000,
    )
    assert (args.image_repositories, args.labels) == ({}, {})
    with pytest.raises(FrozenInstanceError):
        args.name = "other"  # type: ignore[misc]


def test_a_cluster_without_a_dns_endpoint_is_refused() -> None:
    # The kubeconfig would point at nothing; fail the run instead.
    from components.gke import _dns_endpoint  # pyright: ignore[reportPrivateUsage]
    from pulumi_gcp.container.outputs import ClusterControlPlaneEndpointsConfig

    for config in (None, ClusterControlPlaneEndpointsConfig(dns_endpoint_config=None)):
        with pytest.raises(ValueError, match="no DNS endpoint"):
            _dns_endpoint(config)


# --- Rules only the real APIs enforce (tests/gke_api_rules.py) -------------------------------------


def test_prod_is_accepted_by_the_gke_api_rules(prod: Recording) -> None:
    assert gke_api_rules.problems(prod) == []


def test_other_configs_are_accepted_by_the_gke_api_rules(prod_variant: Recording, dev_on_gke: Recording, long_stack: Recording) -> None:
    assert gke_api_rules.problems(prod_variant) + gke_api_rules.problems(dev_on_gke) + gke_api_rules.problems(long_stack) == []


# --- What the GKE cluster tells the workloads (components/clusters.py) -----------------------------


def cronjob_pod_deadline(recording: Recording) -> int:
    [cronjob] = [m for m in manifests(recording) if m["kind"] == "CronJob"]
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["activeDeadlineSeconds"]


def test_a_training_attempt_waits_for_a_gpu_node_only_when_the_pool_starts_at_zero(prod: Recording, prod_variant: Recording) -> None:
    # minNodes 0: the first 15 minutes go to starting a GPU node, so the 120-minute run gets them on
    # top; with a node always there (minNodes 1) a hung run would hold the GPU 15 minutes longer.
    assert cronjob_pod_deadline(prod) == 120 * 60 + 15 * 60
    assert cronjob_pod_deadline(prod_variant) == 120 * 60


def test_commands_in_the_outputs_name_the_gke_context(prod: Recording) -> None:
    # Without --context they act on whatever cluster the laptop last used.
    assert prod.outputs["trainNowCommand"] == (
        f"kubectl --context {KUBECONFIG_CONTEXT} create job -n mlops-prod --from=cronjob/train train-manual-$(date +%s)"
    )


# --- Component identity and outputs ---------------------------------------------------------------


@pytest.fixture(scope="module")
def component_outputs(prod: Recording) -> dict[tuple[str, str], list[str]]:
    """The output names each of prod's components registers (shown in its state)."""
    by_urn = {r.urn: r for r in prod.resources}
    return {(by_urn[urn].type, by_urn[urn].name): sorted(outputs) for urn, outputs in prod.component_outputs.items()}


def test_components_keep_their_type_tokens(prod: Recording) -> None:
    # The type is part of every child's URN: a new token replaces the cluster, the network and the roles.
    names = {(r.type, r.name) for r in prod.resources if r.type.startswith("mlops:") and not r.custom}
    assert {
        ("mlops:gke:GkeCluster", "gke"),
        ("mlops:identity:WebIdentityProvider", "gke-identity"),
        ("mlops:identity:WebIdentityRole", "serving-identity"),
        ("mlops:identity:WebIdentityRole", "training-identity"),
    } <= names


def test_components_register_their_outputs(component_outputs: dict[tuple[str, str], list[str]]) -> None:
    # What `pulumi stack export` and the console show under each component: a rename changes the state.
    assert component_outputs[("mlops:gke:GkeCluster", "gke")] == ["dnsEndpoint", "endpoint", "issuerUrl", "kubeconfig", "name"]
    assert component_outputs[("mlops:identity:WebIdentityProvider", "gke-identity")] == ["arn"]
    assert component_outputs[("mlops:identity:WebIdentityRole", "serving-identity")] == ["roleArn"]


def test_google_cloud_provider_defaults_to_the_gke_project_and_region(prod: Recording) -> None:
    # A Google Cloud resource that names no project or region falls back to these.
    [provider] = prod.of_type("pulumi:providers:gcp")
    assert (provider.inputs["project"], provider.inputs["region"]) == (PROJECT, "us-central1")
