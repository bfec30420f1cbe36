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
from offline.engine import Recording, Registration
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
    fixed = [(r.name, r.inputs.get("name"), r.inputs.get("namePrefix")) for r in prod.of_type(NODE_POOL)]
    assert fixed == [("gke-cpu", None, None), ("gke-gpu", None, None)]


def test_pool_replacement_creates_before_delete(prod: Recording) -> None:
    assert [(r.name, r.delete_before_replace) for r in prod.of_type(NODE_POOL)] == [
        ("gke-cpu", False),
        ("gke-gpu", False),
    ]


def test_pool_names_are_unique_in_the_stack(prod: Recording) -> None:
    names = [r.state["name"] for r in prod.of_type(NODE_POOL)]
    assert len(set(names)) == len(names) == 2


def test_prod_cluster_has_deletion_protection(prod: Recording) -> None:
    assert cluster(prod)["deletionProtection"] is True


def test_dev_cluster_has_no_deletion_protection(run_with: RunWith) -> None:
    assert cluster(run_with("dev", **DEV_ON_GKE))["deletionProtection"] is False


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


def test_gpu_pool_uses_spot_capacity_when_asked(run_with: RunWith) -> None:
    assert pool(run_with("prod", **{"mlops:compute": {"spot": True}}), "gpu").inputs["nodeConfig"]["spot"] is True


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
