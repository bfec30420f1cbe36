"""The GKE control plane (components/gke/control_plane.py): endpoints, private nodes, upgrades, protection."""

from __future__ import annotations

import json

from offline.engine import Recording
from tests.gke.support import CLUSTER, NODE_POOL, PROJECT, SUBNET, cluster, pool
from tests.support import RunWith


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


def test_dataplane_v2_enforces_network_policies(prod: Recording) -> None:
    assert cluster(prod)["datapathProvider"] == "ADVANCED_DATAPATH"


def test_default_node_pool_is_removed(prod: Recording) -> None:
    assert cluster(prod)["removeDefaultNodePool"] is True
    assert sorted(r.name for r in prod.of_type(NODE_POOL)) == ["gke-cpu", "gke-gpu"]


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


def test_control_plane_is_zonal_and_nodes_span_the_zones(prod: Recording) -> None:
    assert cluster(prod)["location"] == "us-central1-a"
    for name in ("cpu", "gpu"):
        assert pool(prod, name).inputs["nodeLocations"] == ["us-central1-a", "us-central1-b"], name


def test_refresh_never_replaces_the_cluster_for_the_removed_default_pool(prod: Recording) -> None:
    # After remove_default_node_pool, GKE reports no nodeConfig; diffed, the provider would plan a
    # replacement of the prod cluster (ForceNew) on every refresh. Nothing else is ignored: a
    # monitoringConfig change still reaches GKE (in place).
    assert prod.one(CLUSTER).ignore_changes == ("nodeConfig",)


def test_default_pool_nodes_are_shielded_and_see_only_the_gke_metadata_server(prod: Recording) -> None:
    # The short-lived default pool runs too; it must not be the weakest node of the cluster.
    config = cluster(prod)["nodeConfig"]
    assert config["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
    assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}


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


def test_cluster_leaves_logging_at_gke_defaults(prod: Recording) -> None:
    # Unset, GKE collects system and workload logs; a partial config would drop workload logs.
    assert "loggingConfig" not in cluster(prod)


def test_cluster_collects_prometheus_metrics_and_the_kube_state_metrics_the_rules_read(prod: Recording) -> None:
    # Managed collection scrapes the PodMonitorings; HPA, POD and DEPLOYMENT are GKE's managed kube
    # state metrics packages behind the replica, saturation and training-failure rules.
    assert cluster(prod)["monitoringConfig"] == {
        "enableComponents": ["SYSTEM_COMPONENTS", "HPA", "POD", "DEPLOYMENT"],
        "managedPrometheus": {"enabled": True},
    }

