"""The checks in tests/gke_api_rules.py, each on a value GKE accepts and one it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from tests import gke_api_rules as rules

CHANNEL = {"releaseChannel": {"channel": "REGULAR"}}
WEEKEND_NIGHTS = {"startTime": "2025-01-04T00:00:00Z", "endTime": "2025-01-04T08:00:00Z", "recurrence": "FREQ=WEEKLY;BYDAY=SA,SU"}


@pytest.mark.parametrize(("management", "refused"), [({"autoRepair": True, "autoUpgrade": True}, False), ({"autoRepair": True, "autoUpgrade": False}, True), ({}, True)])
def test_a_release_channel_cluster_refuses_pools_without_auto_upgrade(management: dict[str, bool], refused: bool) -> None:
    assert bool(rules.release_channel_keeps_node_auto_upgrade(CHANNEL, {"management": management})) is refused


def test_a_cluster_outside_release_channels_may_turn_auto_upgrade_off() -> None:
    assert rules.release_channel_keeps_node_auto_upgrade({}, {"management": {"autoUpgrade": False}}) == []


@pytest.mark.parametrize(
    ("autoscaling", "refused"),
    [
        ({"totalMinNodeCount": 0, "totalMaxNodeCount": 4, "locationPolicy": "ANY"}, False),
        ({"totalMinNodeCount": 4, "totalMaxNodeCount": 4}, False),
        ({"totalMinNodeCount": 5, "totalMaxNodeCount": 4}, True),
        ({"totalMinNodeCount": -1, "totalMaxNodeCount": 4}, True),
        ({"minNodeCount": 2, "maxNodeCount": 1}, True),
        ({"totalMinNodeCount": 0, "totalMaxNodeCount": 4, "maxNodeCount": 2}, True),
        ({"totalMinNodeCount": 0, "totalMaxNodeCount": 4, "locationPolicy": "SPREAD"}, True),
    ],
)
def test_autoscaling_limits_are_ordered_and_of_one_kind(autoscaling: dict[str, Any], refused: bool) -> None:
    assert bool(rules.autoscaling_limits_are_consistent({"autoscaling": autoscaling})) is refused


@pytest.mark.parametrize(
    ("window", "refused"),
    [
        (WEEKEND_NIGHTS, False),  # 8 weekend days x 8 h >= 64 h
        ({**WEEKEND_NIGHTS, "recurrence": "FREQ=WEEKLY;BYDAY=SA"}, True),  # 4-5 Saturdays x 8 h: 32-40 h
        ({**WEEKEND_NIGHTS, "endTime": "2025-01-04T03:00:00Z", "recurrence": "FREQ=DAILY"}, True),  # 3 h pieces count for nothing
        ({**WEEKEND_NIGHTS, "endTime": "2025-01-04T04:00:00Z", "recurrence": "FREQ=DAILY"}, False),  # 4 h a day: about 128 h
        ({**WEEKEND_NIGHTS, "endTime": "2025-01-04T06:00:00Z"}, False),  # 8 x 6 h: exactly 48
        ({**WEEKEND_NIGHTS, "endTime": "2025-01-04T05:00:00Z"}, True),  # 8 x 5 h: 40
        ({**WEEKEND_NIGHTS, "endTime": "2025-01-03T08:00:00Z"}, True),  # ends before it starts
        ({**WEEKEND_NIGHTS, "recurrence": "FREQ=MONTHLY;BYMONTHDAY=1"}, True),  # not understood: reported
    ],
)
def test_a_maintenance_window_leaves_48_hours_of_4_hour_stretches_in_32_days(window: dict[str, str], refused: bool) -> None:
    assert bool(rules.maintenance_window_leaves_enough_time(window)) is refused


def test_the_workload_pool_is_the_clusters_own_project() -> None:
    assert rules.workload_pool_is_the_project_pool({"project": "p-1", "workloadIdentityConfig": {"workloadPool": "p-1.svc.id.goog"}}) == []
    assert rules.workload_pool_is_the_project_pool({"project": "p-1", "workloadIdentityConfig": {"workloadPool": "p-2.svc.id.goog"}})


@pytest.mark.parametrize(("name", "refused"), [("mlops-prod", False), ("a" * 40, False), ("a" * 41, True), ("mlops-prod-", True), ("1mlops", True), ("Mlops", True)])
def test_cluster_names_follow_gke_rules(name: str, refused: bool) -> None:
    assert bool(rules.cluster_name_is_valid({"name": name})) is refused


@pytest.mark.parametrize(
    ("account_id", "refused"),
    [("mlops-prod-nodes", False), ("a" * 30, False), ("a" * 31, True), ("abcde", True), ("mlops-prod-europe-west4-abcde-", True)],
)
def test_service_account_ids_follow_iam_rules(account_id: str, refused: bool) -> None:
    assert bool(rules.service_account_id_is_valid({"accountId": account_id})) is refused


def test_subnet_ranges_must_not_overlap() -> None:
    subnet = {"ipCidrRange": "10.10.0.0/20", "secondaryIpRanges": [{"rangeName": "pods", "ipCidrRange": "10.20.0.0/16"}]}
    assert rules.subnet_ranges_do_not_overlap(subnet) == []
    overlapping = {**subnet, "secondaryIpRanges": [{"rangeName": "pods", "ipCidrRange": "10.10.8.0/21"}]}
    assert rules.subnet_ranges_do_not_overlap(overlapping) == ["primary 10.10.0.0/20 overlaps pods 10.10.8.0/21"]


def test_a_cluster_names_secondary_ranges_its_subnet_has() -> None:
    subnet = {"secondaryIpRanges": [{"rangeName": "pods"}, {"rangeName": "services"}]}
    good = {"ipAllocationPolicy": {"clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services"}}
    assert rules.cluster_uses_the_subnet_secondary_ranges(good, subnet) == []
    bad = {"ipAllocationPolicy": {"clusterSecondaryRangeName": "pod", "servicesSecondaryRangeName": "services"}}
    assert rules.cluster_uses_the_subnet_secondary_ranges(bad, subnet) == ["secondary range 'pod' is not on the subnet"]


@pytest.mark.parametrize(("count", "refused"), [(1, False), (0, True)])
def test_a_cluster_is_created_with_at_least_one_node(count: int, refused: bool) -> None:
    assert bool(rules.default_pool_is_created_before_removal({"initialNodeCount": count})) is refused


@pytest.mark.parametrize(
    ("machine_type", "count", "refused"),
    [("g2-standard-4", 1, False), ("g2-standard-4", 2, True), ("g2-standard-48", 4, False), ("a2-highgpu-2g", 1, True), ("n1-standard-8", 4, False)],
)
def test_accelerator_optimized_machines_carry_a_fixed_gpu_count(machine_type: str, count: int, refused: bool) -> None:
    pool = {"nodeConfig": {"machineType": machine_type, "guestAccelerators": [{"count": count}]}}
    assert bool(rules.accelerator_count_matches_the_machine(pool)) is refused


@pytest.mark.parametrize(
    ("config", "refused"),
    [
        ({"taints": [{"effect": "NO_SCHEDULE"}], "guestAccelerators": [{"gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"}}]}, False),
        ({"taints": [{"effect": "NoSchedule"}]}, True),  # the Kubernetes spelling, not the GKE API's
        ({"guestAccelerators": [{"gpuDriverInstallationConfig": {"gpuDriverVersion": "NEWEST"}}]}, True),
        ({"spot": True, "preemptible": True}, True),
    ],
)
def test_node_config_enums_are_ones_the_api_knows(config: dict[str, Any], refused: bool) -> None:
    assert bool(rules.node_config_values_are_known({"nodeConfig": config})) is refused


@pytest.mark.parametrize(
    ("pool", "refused"),
    [
        ({"location": "us-central1-a", "nodeLocations": ["us-central1-a", "us-central1-b"]}, False),
        ({"location": "us-central1-b", "nodeLocations": ["us-central1-b"]}, True),
        ({"location": "us-central1-a", "nodeLocations": ["us-east1-b"]}, True),
    ],
)
def test_pool_zones_are_in_the_cluster_region(pool: dict[str, Any], refused: bool) -> None:
    assert bool(rules.pool_zones_are_in_the_cluster_region({"location": "us-central1-a"}, pool)) is refused
