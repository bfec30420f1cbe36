"""Idle prices of what AWS runs for an EKS stack: Auto Mode's nodes under a workload (a Deployment, or
the Airflow release's always-on pods), a Network Load Balancer, an RDS database and the control
plane's log group (offline/data/prices.json `eks`, `rds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.pipeline.chart import ALWAYS_ON
from offline.auto_mode_cost import Nodes, cheapest_nodes, pod_shape, spread_one_per_node
from offline.tables import data_table

Priced = tuple[str, float | None, str]
NLB_CLASSES = frozenset({"eks.amazonaws.com/nlb", "service.k8s.aws/nlb"})
"""The load balancer classes whose LoadBalancer Service is an NLB: Auto Mode's and the AWS Load Balancer Controller's."""


@dataclass(frozen=True)
class AutoMode:
    """What pricing a workload on EKS Auto Mode needs to know of the rest of the stack."""

    minimum_replicas: Mapping[tuple[str, str], int] = field(default_factory=dict)
    """(namespace, Deployment name) -> its HorizontalPodAutoscaler's minReplicas."""


def _hours() -> int:
    return data_table("prices")["hours_per_month"]


def workload_nodes(inputs: Mapping[str, Any], auto_mode: AutoMode) -> Priced:
    """A Deployment on Auto Mode: the nodes its minimum replicas keep, each the cheapest that fits."""
    metadata, spec = inputs.get("metadata") or {}, inputs.get("spec") or {}
    key = (str(metadata.get("namespace", "")), str(metadata.get("name", "")))
    replicas = auto_mode.minimum_replicas.get(key, int(spec.get("replicas", 1)))
    if replicas == 0:
        return "usage", 0.0, "0 replicas while idle: no node"
    pod_spec = (spec.get("template") or {}).get("spec") or {}
    pod = pod_shape(pod_spec)
    one_per_node = spread_one_per_node(pod_spec)
    nodes = cheapest_nodes(pod, replicas, one_per_node=one_per_node)
    shape = f"{pod.millicores}m CPU, {pod.mebibytes}Mi" + (f", {pod.gpus} GPU" if pod.gpus else "")
    if nodes is None:
        return "unpriced", None, f"UNPRICED: no node type in offline/data/prices.json (eks.node_types) holds a pod of {shape}"
    spread = ", one per node" if one_per_node else ""
    return "auto-mode-nodes", nodes.monthly(), f"{replicas} pod(s) of {shape}{spread}: {_node_note(nodes)}"


def release_nodes(values: Mapping[str, Any], service: Priced) -> Priced:
    """The Airflow release on Auto Mode: the node its always-on pods (scheduler, api-server,
    dag-processor, with their log groomers) keep, packed onto the cheapest type that holds them all
    (priced on their own, as every workload here is: none counts on another's spare room), and its
    api-server's Service (`service`, priced as any Service)."""
    containers = []
    for name in ALWAYS_ON:
        section = values.get(name) or {}
        containers.append({"resources": section["resources"]})
        groomer = section.get("logGroomerSidecar") or {}
        if groomer.get("enabled", True) and groomer.get("resources"):
            containers.append({"resources": groomer["resources"]})
    pods = pod_shape({"containers": containers})
    nodes = cheapest_nodes(pods, 1, one_per_node=False)
    shape = f"{pods.millicores}m CPU, {pods.mebibytes}Mi"
    if nodes is None or service[1] is None:
        return "unpriced", None, f"UNPRICED: no node type in offline/data/prices.json (eks.node_types) holds Airflow's always-on pods ({shape})"
    return (
        "auto-mode-nodes",
        nodes.monthly() + service[1],
        f"its always-on pods ({shape}: scheduler, api-server, dag-processor) on {_node_note(nodes)}; the api-server's Service: {service[2]}",
    )


def _node_note(nodes: Nodes) -> str:
    eks = data_table("prices")["eks"]
    return (
        f"{nodes.count} x {nodes.type.name} at ${nodes.type.on_demand}/h + Auto Mode ${nodes.type.management_fee}/h x {_hours()} h "
        f"+ {eks['ephemeral_storage_gb']} GB gp3 x ${eks['gp3_per_gb_month']}/GB-month each"
    )


def network_load_balancer() -> Priced:
    nlb = data_table("prices")["eks"]["nlb"]
    hourly = nlb["hour"] + nlb["lcu_hour"] * nlb["idle_lcu"]
    return (
        "hourly",
        hourly * _hours(),
        f"LoadBalancer: one NLB ${nlb['hour']}/h x {_hours()} h + {nlb['idle_lcu']} LCU while idle x ${nlb['lcu_hour']}/LCU-h",
    )


def is_nlb(service: Mapping[str, Any]) -> bool:
    return (service.get("spec") or {}).get("loadBalancerClass") in NLB_CLASSES


def rds_instance(inputs: Mapping[str, Any]) -> Priced:
    """An RDS instance: its class's hours and its allocated storage (Multi-AZ twice over)."""
    rds = data_table("prices")["rds"]
    instance_class = str(inputs.get("instanceClass"))
    hourly = rds["instance_hour"].get(instance_class)
    storage_type = str(inputs.get("storageType") or "gp2")
    per_gb = rds["storage_per_gb_month"].get(storage_type)
    if hourly is None or per_gb is None:
        missing = f"instance class {instance_class}" if hourly is None else f"storage type {storage_type}"
        return "unpriced", None, f"UNPRICED: RDS {missing} is not in offline/data/prices.json"
    storage_gb = float(inputs.get("allocatedStorage") or 0)
    copies = rds["multi_az_factor"] if inputs.get("multiAz") is True else 1
    zones = " x 2 (Multi-AZ)" if copies > 1 else ""
    return (
        "rds-instance",
        copies * (hourly * _hours() + storage_gb * per_gb),
        f"{instance_class} ${hourly}/h x {_hours()} h + {storage_gb:g} GB {storage_type} x ${per_gb}/GB-month{zones}",
    )


def control_plane_logs(inputs: Mapping[str, Any], note: str) -> Priced:
    """A log group: an EKS control plane's takes logs while idle (an estimate); any other only when something runs."""
    name = str(inputs.get("name") or "")
    if not (name.startswith("/aws/eks/") and name.endswith("/cluster")):
        return "usage", 0.0, note
    logs = data_table("prices")["eks"]["control_plane_logs"]
    retention = inputs.get("retentionInDays")
    kept_months = min(float(retention) / 30, 12.0) if retention else 12.0
    gb = logs["idle_gb_month"]
    monthly = gb * logs["ingestion_per_gb"] + gb * kept_months * logs["storage_per_gb_month"]
    return (
        "estimate",
        monthly,
        f"EKS control plane logs, an estimate of {gb:g} GB/month while idle x ${logs['ingestion_per_gb']}/GB ingested "
        f"+ {gb * kept_months:g} GB kept x ${logs['storage_per_gb_month']}/GB-month",
    )
