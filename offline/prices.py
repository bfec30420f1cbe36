"""The price table, and what one resource bills a month while nothing runs.

Prices come from offline/data/prices.json (list prices, us-east-1, dated, with sources).
Every custom resource is priced by kind: hourly, monthly, an EC2 instance (hours plus root
volume), a node pool's idle minimum, the EKS Auto Mode nodes a workload keeps, a Cloud SQL
instance (its tier and disk), an RDS database, an estimate (an EKS control plane's logs),
usage-priced ($0 while idle), free, or UNPRICED when the table does not know its type. An
unpriced type is named, never counted as $0 in silence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from offline.engine import Registration
from offline.managed_prices import (
    AutoMode, control_plane_logs, is_nlb, network_load_balancer, rds_instance, release_nodes, workload_nodes,
)
from offline.tables import data_table
from offline.values import reveal


def price_table() -> dict[str, Any]:
    return data_table("prices")


@dataclass(frozen=True)
class ResourceCost:
    urn: str
    type: str
    name: str
    kind: str
    """hourly, monthly, instance, node-pool, cloud-nat, auto-mode-nodes, rds-instance, estimate (all idle
    costs), usage, free, or unpriced."""
    monthly: float | None
    """USD a month while idle; None when unpriced."""
    note: str


def round_usd(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _hourly(on_demand: float | None, spot_factor: float, *, spot: bool) -> float | None:
    """A list price per hour, or its spot estimate; None when the table does not know the type."""
    if on_demand is None:
        return None
    return round(on_demand * spot_factor, 4) if spot else on_demand


def instance_hourly(instance_type: str, *, spot: bool) -> float | None:
    table = price_table()["instances"]
    return _hourly(table["on_demand"].get(instance_type), table["spot_factor"], spot=spot)


def _is_spot(inputs: dict[str, Any]) -> bool:
    market = inputs.get("instanceMarketOptions") or {}
    return isinstance(market, dict) and market.get("marketType") == "spot"


def gcp_machine_hourly(machine_type: str, *, spot: bool) -> float | None:
    table = price_table()["gcp"]
    return _hourly(table["machines"].get(machine_type), table["spot_factor"], spot=spot)


def pool_min_nodes(inputs: dict[str, Any]) -> int:
    autoscaling = inputs.get("autoscaling") or {}
    return int(autoscaling.get("totalMinNodeCount") or autoscaling.get("minNodeCount") or 0)


Priced = tuple[str, float | None, str]
"""(kind, USD a month while idle or None when unpriced, note): one resource as its kind prices it."""


def price(resource: Registration, *, idle_nodes: int = 0, auto_mode: AutoMode | None = None) -> ResourceCost:
    """What `resource` bills per month while nothing runs.

    `idle_nodes` is how many Kubernetes nodes the stack keeps up while idle (its node pools'
    minimums), which is what a Cloud NAT gateway bills per VM. `auto_mode` is given where the
    workloads run on EKS Auto Mode, whose nodes their pods keep (offline/auto_mode_cost.py).
    """
    entry = price_table()["types"].get(resource.type)
    if entry is None:
        kind, monthly, note = "unpriced", None, "UNPRICED: this type is not in offline/data/prices.json"
    else:
        kind, monthly, note = _by_kind(entry, reveal(resource.inputs), idle_nodes, auto_mode)
    return ResourceCost(resource.urn, resource.type, resource.name, kind, round_usd(monthly), note)


def _by_kind(entry: dict[str, Any], inputs: dict[str, Any], idle_nodes: int, auto_mode: AutoMode | None) -> Priced:
    kind, note = entry["kind"], entry.get("note", "")
    hours = price_table()["hours_per_month"]
    if kind == "hourly":
        return kind, entry["usd"] * hours, f"${entry['usd']}/h x {hours} h; {note}".rstrip("; ")
    if kind == "monthly":
        return kind, entry["usd"], note
    if kind == "vpc-endpoint":
        if inputs.get("vpcEndpointType", "Gateway") == "Gateway":
            return "free", 0.0, "Gateway endpoint: free"
        zones = max(1, len(inputs.get("subnetIds") or []))
        return "hourly", entry["usd"] * hours * zones, f"Interface endpoint: ${entry['usd']}/h x {zones} zone(s)"
    if kind == "instance":
        return _instance(inputs)
    if kind == "node-pool":
        return _node_pool(inputs)
    if kind == "cloud-nat":
        return _cloud_nat(idle_nodes)
    if kind == "k8s-service":
        if is_nlb(inputs):
            return network_load_balancer()
        return _service((inputs.get("spec") or {}).get("type"), hours)
    if kind == "airflow-release":
        # The chart makes the api-server's Service from these values; it is no resource of the program's.
        values = inputs.get("values") or {}
        service = (values.get("apiServer") or {}).get("service") or {}
        priced_service = _service(service.get("type", "ClusterIP"), hours)
        if auto_mode is not None:  # Auto Mode starts a node for its pods, which nothing else prices
            return release_nodes(values, priced_service)
        kind, monthly, service_note = priced_service
        return kind, monthly, f"the api-server's Service: {service_note}; {note}"
    if kind == "cloud-sql":
        return _cloud_sql(inputs.get("settings") or {})
    if kind == "k8s-workload":
        return workload_nodes(inputs, auto_mode) if auto_mode is not None else ("free", 0.0, note)
    if kind == "rds-instance":
        return rds_instance(inputs)
    if kind == "log-group":
        return control_plane_logs(inputs, note)
    if kind in ("usage", "free"):
        return kind, 0.0, note or kind
    return "unpriced", None, f"UNPRICED: unknown price kind {kind!r}"


def _service(service_type: Any, hours: int) -> Priced:
    """A Service: a LoadBalancer is one forwarding rule (GCP); a ClusterIP is nothing in the cloud."""
    if service_type != "LoadBalancer":
        return "free", 0.0, "ClusterIP: no cloud resource"
    rule = price_table()["gcp"]["forwarding_rule_hour"]
    return "hourly", rule * hours, f"LoadBalancer: one forwarding rule ${rule}/h x {hours} h"


def _instance(inputs: dict[str, Any]) -> Priced:
    """An EC2 instance: its hours and its root volume."""
    table = price_table()
    hours = table["hours_per_month"]
    instance_type = str(inputs.get("instanceType"))
    spot = _is_spot(inputs)
    hourly = instance_hourly(instance_type, spot=spot)
    if hourly is None:
        return "unpriced", None, f"UNPRICED: instance type {instance_type} is not in offline/data/prices.json"
    root = inputs.get("rootBlockDevice") or {}
    volume_gb = float(root.get("volumeSize") or 8)
    volume_type = str(root.get("volumeType") or "gp3")
    per_gb = table["ebs"].get(f"{volume_type}_per_gb_month")
    if per_gb is None:
        return "unpriced", None, f"UNPRICED: EBS volume type {volume_type} is not in offline/data/prices.json"
    market = "spot estimate" if spot else "on-demand"
    return (
        "instance",
        hourly * hours + volume_gb * per_gb,
        f"{instance_type} {market} ${hourly}/h x {hours} h + {volume_gb:g} GB {volume_type} x ${per_gb}/GB-month",
    )


def _node_pool(inputs: dict[str, Any]) -> Priced:
    """A GKE node pool: the nodes it keeps while idle, each with its disk."""
    table = price_table()
    hours = table["hours_per_month"]
    node = inputs.get("nodeConfig") or {}
    machine = str(node.get("machineType"))
    count = pool_min_nodes(inputs)
    if count == 0:
        return "usage", 0.0, f"{machine}: 0 nodes while idle; nodes bill only while pods need them"
    hourly = gcp_machine_hourly(machine, spot=bool(node.get("spot")))
    if hourly is None:
        return "unpriced", None, f"UNPRICED: machine type {machine} is not in offline/data/prices.json"
    disk_gb = float(node.get("diskSizeGb") or 100)
    per_gb = table["gcp"]["pd_balanced_per_gb_month"]
    return (
        "node-pool",
        count * (hourly * hours + disk_gb * per_gb),
        f"{count} x {machine} at ${hourly}/h x {hours} h + {disk_gb:g} GB disk x ${per_gb}/GB-month each",
    )


def _cloud_nat(idle_nodes: int) -> Priced:
    """A Cloud NAT gateway: its address, and each VM it serves."""
    table = price_table()
    gcp = table["gcp"]
    hourly = gcp["external_ip_hour"] + gcp["nat_per_vm_hour"] * idle_nodes
    return (
        "cloud-nat",
        hourly * table["hours_per_month"],
        f"gateway IP ${gcp['external_ip_hour']}/h + {idle_nodes} idle node(s) x ${gcp['nat_per_vm_hour']}/VM-h",
    )


def _cloud_sql(settings: dict[str, Any]) -> Priced:
    """A Cloud SQL instance: its tier's hours (vCPUs and memory, or a shared-core rate) and its SSD,
    both doubled for a REGIONAL (high-availability) instance, which keeps a standby."""
    table = price_table()
    sql = table["gcp"]["cloud_sql"]
    hours = table["hours_per_month"]
    tier = str(settings.get("tier"))
    custom = re.fullmatch(r"db-custom-(\d+)-(\d+)", tier)
    if custom:
        vcpus, memory_gb = int(custom[1]), int(custom[2]) / 1024
        hourly = vcpus * sql["vcpu_hour"] + memory_gb * sql["memory_gb_hour"]
        shape = f"{vcpus} vCPU x ${sql['vcpu_hour']}/h + {memory_gb:g} GB x ${sql['memory_gb_hour']}/h"
    elif tier in sql["shared_core_hour"]:
        hourly = sql["shared_core_hour"][tier]
        shape = f"shared core ${hourly}/h"
    else:
        return "unpriced", None, f"UNPRICED: Cloud SQL tier {tier} is not in offline/data/prices.json"
    disk_gb = float(settings.get("diskSize") or 10)
    copies = sql["regional_factor"] if settings.get("availabilityType") == "REGIONAL" else 1
    monthly = copies * (hourly * hours + disk_gb * sql["ssd_gb_month"])
    note = f"{tier}: {shape} x {hours} h + {disk_gb:g} GB SSD x ${sql['ssd_gb_month']}/GB-month"
    if copies > 1:
        note += f", x {copies} (REGIONAL: a standby)"
    return "cloud-sql", monthly, note + f"; backups ${sql['backup_gb_month']}/GB-month (usage)"
