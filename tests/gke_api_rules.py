"""Rules that only the real Google Cloud APIs enforce, written down so the offline suite can hold them.

Neither the pulumi-gcp schema nor checkov rejects these; GKE (or IAM, or Compute Engine) does, at
`pulumi up`, after the rest of the stack was already created. Each rule is a small function of the
recorded inputs (the camelCase dicts the mock engine keeps) returning the problems it finds, and
names the documentation page that states it. `problems(recording)` applies every rule to the GKE
resources of one program run.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta
from typing import Any

from offline.engine import Recording

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account"


def release_channel_keeps_node_auto_upgrade(cluster: dict[str, Any], pool: dict[str, Any]) -> list[str]:
    """A node pool of a cluster enrolled in a release channel cannot turn node auto-upgrade off.

    https://cloud.google.com/kubernetes-engine/docs/concepts/release-channels ("If you don't enroll
    your Standard cluster in a release channel, you can disable node auto-upgrades"; enrolled, you
    cannot: the API refuses `autoUpgrade: false`).
    """
    channel = (cluster.get("releaseChannel") or {}).get("channel", "UNSPECIFIED")
    auto_upgrade = (pool.get("management") or {}).get("autoUpgrade")
    if channel != "UNSPECIFIED" and auto_upgrade is not True:
        return [f"release channel {channel} requires management.autoUpgrade true, got {auto_upgrade!r}"]
    return []


def autoscaling_limits_are_consistent(pool: dict[str, Any]) -> list[str]:
    """Autoscaling limits: 0 <= min <= max, and total limits and per-zone limits never together.

    https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters.nodePools#NodePoolAutoscaling
    (totalMinNodeCount "must be greater than or equal to 0 and less than or equal to
    totalMaxNodeCount"; "the total_*_node_count fields are mutually exclusive with the
    *_node_count fields"); the location policy is BALANCED or ANY.
    """
    autoscaling = pool.get("autoscaling")
    if not autoscaling:
        return []
    found: list[str] = []
    total = "totalMinNodeCount" in autoscaling or "totalMaxNodeCount" in autoscaling
    per_zone = "minNodeCount" in autoscaling or "maxNodeCount" in autoscaling
    if total and per_zone:
        found.append("total and per-zone node counts are mutually exclusive")
    for low_key, high_key in (("totalMinNodeCount", "totalMaxNodeCount"), ("minNodeCount", "maxNodeCount")):
        if low_key in autoscaling or high_key in autoscaling:
            low, high = autoscaling.get(low_key, 0), autoscaling.get(high_key, 0)
            if not 0 <= low <= high:
                found.append(f"{low_key} {low} and {high_key} {high}: need 0 <= min <= max")
    if autoscaling.get("locationPolicy", "BALANCED") not in ("BALANCED", "ANY"):
        found.append(f"locationPolicy {autoscaling['locationPolicy']!r} is neither BALANCED nor ANY")
    return found


MIN_WINDOW = timedelta(hours=4)
MIN_AVAILABILITY = timedelta(hours=48)
ROLLING_SPAN = timedelta(days=32)
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def maintenance_window_leaves_enough_time(window: dict[str, Any]) -> list[str]:
    """A recurring window must give 48 hours in any 32 days, counting only stretches of 4 hours or more.

    https://cloud.google.com/kubernetes-engine/docs/concepts/maintenance-windows-and-exclusions
    ("maintenance windows ... must allow for at least 48 hours of maintenance availability in a
    32-day rolling window. Only contiguous availability periods of at least four hours are counted").
    Checks FREQ=DAILY and FREQ=WEEKLY;BYDAY=... (what GKE's own examples use); other rules are reported.
    """
    start = datetime.fromisoformat(window["startTime"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(window["endTime"].replace("Z", "+00:00"))
    if end <= start:
        return [f"the window ends ({window['endTime']}) before it starts ({window['startTime']})"]
    parts = dict(part.split("=", 1) for part in window["recurrence"].split(";"))
    if parts.get("FREQ") == "DAILY" and set(parts) == {"FREQ"}:
        days = set(_DAYS)
    elif parts.get("FREQ") == "WEEKLY" and set(parts) == {"FREQ", "BYDAY"}:
        days = set(parts["BYDAY"].split(","))
        if not days <= set(_DAYS):
            return [f"unknown BYDAY in {window['recurrence']!r}"]
    else:
        return [f"recurrence {window['recurrence']!r} is not one this check understands"]
    length = end - start
    # Occurrences over ten weeks; in a span, a piece of one counts only if it lasts four hours or more.
    occurrences = [
        (start + timedelta(days=offset), start + timedelta(days=offset) + length)
        for offset in range(70)
        if _DAYS[(start + timedelta(days=offset)).weekday()] in days
    ]

    def available(span_start: datetime) -> timedelta:
        span_end = span_start + ROLLING_SPAN
        pieces = (min(e, span_end) - max(b, span_start) for b, e in occurrences)
        return sum((piece for piece in pieces if piece >= MIN_WINDOW), timedelta(0))

    # The least availability over any 32-day span starting in the first five weeks, hour by hour.
    least = min(available(start + timedelta(hours=h)) for h in range(5 * 7 * 24))
    if least < MIN_AVAILABILITY:
        return [f"{least.total_seconds() / 3600:g} h of windows of >= 4 h in some 32 days; GKE wants 48"]
    return []


def workload_pool_is_the_project_pool(cluster: dict[str, Any]) -> list[str]:
    """The Workload Identity pool of a cluster is its project's, `PROJECT_ID.svc.id.goog`.

    https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity ("--workload-pool=PROJECT_ID.svc.id.goog").
    """
    pool = (cluster.get("workloadIdentityConfig") or {}).get("workloadPool")
    expected = f"{cluster.get('project')}.svc.id.goog"
    return [] if pool == expected else [f"workload pool {pool!r}, expected {expected!r}"]


_CLUSTER_NAME = re.compile(r"^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$")
_ACCOUNT_ID = re.compile(r"^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$")


def cluster_name_is_valid(cluster: dict[str, Any]) -> list[str]:
    """Cluster names: lowercase letters, digits and hyphens, a letter first, no hyphen last, 40 at most.

    https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters#Cluster (`name`).
    """
    name = cluster.get("name", "")
    return [] if _CLUSTER_NAME.match(name) else [f"cluster name {name!r} is not a valid GKE cluster name"]


def service_account_id_is_valid(account: dict[str, Any]) -> list[str]:
    """Service account ids: 6 to 30 characters, `[a-z]([-a-z0-9]*[a-z0-9])`.

    https://cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts/create (`accountId`).
    """
    account_id = account.get("accountId", "")
    return [] if _ACCOUNT_ID.match(account_id) else [f"service account id {account_id!r} is refused by IAM"]


def subnet_ranges_do_not_overlap(subnet: dict[str, Any]) -> list[str]:
    """A subnet's primary range and its secondary ranges must not overlap one another.

    https://cloud.google.com/vpc/docs/subnets#valid-ranges ("primary and secondary IP address ranges
    ... can't overlap").
    """
    ranges = [("primary", subnet["ipCidrRange"])] + [
        (r["rangeName"], r["ipCidrRange"]) for r in subnet.get("secondaryIpRanges") or []
    ]
    found: list[str] = []
    for index, (name, cidr) in enumerate(ranges):
        for other, other_cidr in ranges[index + 1 :]:
            if ipaddress.ip_network(cidr).overlaps(ipaddress.ip_network(other_cidr)):
                found.append(f"{name} {cidr} overlaps {other} {other_cidr}")
    return found


def cluster_uses_the_subnet_secondary_ranges(cluster: dict[str, Any], subnet: dict[str, Any]) -> list[str]:
    """A VPC-native cluster names existing secondary ranges of its subnet for pods and services.

    https://cloud.google.com/kubernetes-engine/docs/concepts/alias-ips#cluster_sizing_secondary_range_pods
    (the cluster's `--cluster-secondary-range-name` and `--services-secondary-range-name` must exist).
    """
    names = {r["rangeName"] for r in subnet.get("secondaryIpRanges") or []}
    policy = cluster.get("ipAllocationPolicy") or {}
    wanted = [policy.get("clusterSecondaryRangeName"), policy.get("servicesSecondaryRangeName")]
    return [f"secondary range {name!r} is not on the subnet" for name in wanted if name not in names]


def default_pool_is_created_before_removal(cluster: dict[str, Any]) -> list[str]:
    """A cluster without inline node pools is created with a default pool of at least one node.

    https://registry.terraform.io/providers/hashicorp/google/latest/docs/resources/container_cluster#initial_node_count
    ("you'll need to set this to a value of at least 1, alongside setting remove_default_node_pool").
    """
    count = cluster.get("initialNodeCount", 0)
    return [] if count >= 1 else [f"initialNodeCount {count}: GKE creates no cluster without a node"]


_BUNDLED_GPUS = {
    **{f"g2-standard-{size}": 1 for size in (4, 8, 12, 16, 32)},
    "g2-standard-24": 2,
    "g2-standard-48": 4,
    "g2-standard-96": 8,
    **{f"a2-highgpu-{n}g": n for n in (1, 2, 4, 8)},
    "a2-megagpu-16g": 16,
    "a3-highgpu-8g": 8,
}


def accelerator_count_matches_the_machine(pool: dict[str, Any]) -> list[str]:
    """On accelerator-optimized machines (G2, A2, A3) the GPU count is fixed by the machine type.

    https://cloud.google.com/compute/docs/gpus#l4-gpus (and #a100-gpus, #h100-gpus: each machine
    type "has a fixed number of GPUs attached"; a pool asking for another count is refused).
    """
    config = pool.get("nodeConfig") or {}
    expected = _BUNDLED_GPUS.get(config.get("machineType", ""))
    if expected is None:
        return []
    counts = [a.get("count") for a in config.get("guestAccelerators") or []]
    return [] if counts == [expected] else [f"{config['machineType']} carries {expected} GPU(s), pool asks {counts}"]


_DRIVER_VERSIONS = {"DEFAULT", "LATEST", "INSTALLATION_DISABLED"}
_TAINT_EFFECTS = {"NO_SCHEDULE", "PREFER_NO_SCHEDULE", "NO_EXECUTE"}


def node_config_values_are_known(pool: dict[str, Any]) -> list[str]:
    """Enum values the API accepts: taint effects, GPU driver versions; spot and preemptible exclude each other.

    https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/NodeConfig (NodeTaint.Effect,
    GPUDriverInstallationConfig.GPUDriverVersion, `spot`: "Spot flag for enabling Spot VM, which
    is a rebrand of the existing preemptible flag").
    """
    config = pool.get("nodeConfig") or {}
    found = [f"taint effect {t.get('effect')!r}" for t in config.get("taints") or [] if t.get("effect") not in _TAINT_EFFECTS]
    for accelerator in config.get("guestAccelerators") or []:
        version = (accelerator.get("gpuDriverInstallationConfig") or {}).get("gpuDriverVersion")
        if version not in _DRIVER_VERSIONS:
            found.append(f"GPU driver version {version!r}")
    if config.get("spot") and config.get("preemptible"):
        found.append("spot and preemptible together")
    return found


def pool_zones_are_in_the_cluster_region(cluster: dict[str, Any], pool: dict[str, Any]) -> list[str]:
    """A pool lives where its cluster does; its node zones are zones of the cluster's region.

    https://cloud.google.com/kubernetes-engine/docs/concepts/regional-clusters and
    https://cloud.google.com/kubernetes-engine/docs/how-to/managing-clusters#changing_node_locations
    ("node locations must be in the same region as the cluster").
    """
    location = cluster.get("location", "")
    region = location.rsplit("-", 1)[0] if re.search(r"-[a-z]$", location) else location
    found = [] if pool.get("location") == location else [f"pool in {pool.get('location')!r}, cluster in {location!r}"]
    found += [f"zone {zone!r} is not in {region}" for zone in pool.get("nodeLocations") or [] if not zone.startswith(f"{region}-")]
    return found


def problems(recording: Recording) -> list[str]:
    """Every rule above, over the GKE resources of one program run (empty: GKE would accept it)."""
    found: list[str] = []
    subnets = [r.inputs for r in recording.of_type(SUBNET)]
    for cluster in (r.inputs for r in recording.of_type(CLUSTER)):
        found += workload_pool_is_the_project_pool(cluster) + cluster_name_is_valid(cluster)
        found += default_pool_is_created_before_removal(cluster)
        found += maintenance_window_leaves_enough_time(cluster["maintenancePolicy"]["recurringWindow"])
        for subnet in subnets:
            found += cluster_uses_the_subnet_secondary_ranges(cluster, subnet)
        for pool in (r.inputs for r in recording.of_type(NODE_POOL)):
            found += release_channel_keeps_node_auto_upgrade(cluster, pool)
            found += pool_zones_are_in_the_cluster_region(cluster, pool)
    for pool in (r.inputs for r in recording.of_type(NODE_POOL)):
        found += autoscaling_limits_are_consistent(pool) + accelerator_count_matches_the_machine(pool)
        found += node_config_values_are_known(pool)
    for subnet in subnets:
        found += subnet_ranges_do_not_overlap(subnet)
    for account in (r.inputs for r in recording.of_type(SERVICE_ACCOUNT)):
        found += service_account_id_is_valid(account)
    return found
