"""The node pools (components/gke/node_pools.py): a CPU pool sized for serving, a GPU pool that scales to zero."""

from __future__ import annotations

import pytest

from components.config import ComputeConfig
from components.gke.args import GkeClusterArgs, ServedPods
from components.gke.node_pools import cpu_machine_for, cpu_pool_bounds, gpus_per_node, serving_machine, serving_pool_bounds
from offline.engine import Recording
from tests.gke.support import CLUSTER, NODE_POOL, PROJECT, cluster, node_account, pool


def test_nodes_are_shielded(prod: Recording) -> None:
    assert cluster(prod)["enableShieldedNodes"] is True
    for name in ("cpu", "gpu"):
        shielded = pool(prod, name).inputs["nodeConfig"]["shieldedInstanceConfig"]
        assert shielded == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}, name


def test_pods_see_the_gke_metadata_server_not_the_node_credentials(prod: Recording) -> None:
    for name in ("cpu", "gpu"):
        assert pool(prod, name).inputs["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}, name


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


def test_cpu_pool_is_sized_for_the_serving_replicas_and_airflow(prod: Recording) -> None:
    # prod serves 2..6 one-CPU pods; an e2-standard-2 holds one, plus one node for a rollout's surge pod.
    # Airflow's always-on pods (1350m together) hold one more, and one for its rollout and its task pods.
    autoscaling = pool(prod, "cpu").inputs["autoscaling"]
    assert (autoscaling["totalMinNodeCount"], autoscaling["totalMaxNodeCount"]) == (2 + 1, 7 + 2)
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
    # Airflow's always-on pods add one node to each (on an e2-standard-4, room for its rollout too).
    variant, dev = pool(prod_variant, "cpu").inputs, pool(dev_on_gke, "cpu").inputs
    assert (variant["autoscaling"]["totalMinNodeCount"], variant["autoscaling"]["totalMaxNodeCount"]) == (4 + 1, 9 + 1)
    assert variant["nodeConfig"]["machineType"] == "e2-standard-4"
    assert (dev["autoscaling"]["totalMinNodeCount"], dev["autoscaling"]["totalMaxNodeCount"]) == (1 + 1, 3 + 2)
    assert dev["nodeConfig"]["machineType"] == "e2-standard-2"


def test_cpu_pool_starts_with_its_minimum_spread_over_the_zones(prod: Recording, prod_variant: Recording) -> None:
    # initialNodeCount is per zone: 3 nodes (iris' 2, Airflow's 1) over 2 zones is 2 each (4 >= 3);
    # 5 over 3 zones, 2 each (6 >= 5).
    assert pool(prod, "cpu").inputs["initialNodeCount"] == 2
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


def test_serving_pool_has_no_gpu_taint_or_accelerator(prod: Recording) -> None:
    config = pool(prod, "cpu").inputs["nodeConfig"]
    assert ("guestAccelerators" in config, "taints" in config) == (False, False)


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


def served(*pods: tuple[int, int, int]) -> GkeClusterArgs:
    return GkeClusterArgs(
        project="p-123456", region="r", zones=["r-a"], name="n", release_channel="REGULAR", authorized_networks=["10.0.0.0/8"],
        deletion_protection=False, compute=ComputeConfig(), spot=False, serving=[ServedPods(*p) for p in pods],
    )


def test_the_cpu_pool_sums_each_served_projects_nodes() -> None:
    # One-core pods: one per e2-standard-2 (1530m free); quarter-core pods: six per node.
    one, quarter = (2, 6, 1000), (2, 3, 250)
    assert (serving_machine(served(one)), serving_pool_bounds(served(one))) == ("e2-standard-2", (2, 7))
    assert serving_pool_bounds(served(one, quarter)) == (3, 8)
    # The largest pod picks the machine: a 2-core pod needs an e2-standard-4, where one-core pods fit three.
    assert serving_machine(served(one, (1, 1, 2000))) == "e2-standard-4"
    assert serving_pool_bounds(served(one, (1, 1, 2000))) == (1 + 1, 3 + 2)


def test_a_stack_that_serves_nothing_keeps_one_cpu_node_for_the_system_pods() -> None:
    assert (serving_machine(served()), serving_pool_bounds(served())) == ("e2-standard-2", (1, 1))
