"""The GKE cluster's own network (components/gke/network.py): VPC, subnet, router, Cloud NAT."""

from __future__ import annotations

from offline.engine import Recording
from tests.gke.support import NAT, NETWORK, ROUTER, SUBNET, cluster


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
