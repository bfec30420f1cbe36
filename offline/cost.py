"""`make cost`: what each stack bills while nothing runs, and what one training run costs.

Prices come from offline/data/prices.json (list prices, us-east-1, dated, with sources).
Every custom resource the program registers is priced by kind: hourly, monthly, an EC2
instance (hours plus root volume), usage-priced ($0 while idle), free, or UNPRICED when
the table does not know its type. An unpriced type is named in the output and never
counted as $0 in silence; tests/test_cost.py fails on one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from components.training_cronjob import NAME as TRAINING_CRONJOB
from components.training_cronjob import run_deadline_seconds
from offline.engine import Registration, run_stack, stack_names
from offline.values import reveal

PRICES_FILE = Path(__file__).parent / "data" / "prices.json"


@cache
def price_table() -> dict[str, Any]:
    return json.loads(PRICES_FILE.read_text())


@dataclass(frozen=True)
class ResourceCost:
    urn: str
    type: str
    name: str
    kind: str
    """hourly, monthly, instance, vpc-endpoint (all idle costs), usage, free, or unpriced."""
    monthly: float | None
    """USD a month while idle; None when unpriced."""
    note: str


@dataclass(frozen=True)
class TrainingRun:
    resource: str
    instance_type: str
    spot: bool
    hourly: float | None
    typical_hours: float
    upper_hours: float | None
    note: str

    @property
    def typical(self) -> float | None:
        return None if self.hourly is None else self.hourly * self.typical_hours

    @property
    def upper(self) -> float | None:
        return None if self.hourly is None or self.upper_hours is None else self.hourly * self.upper_hours


@dataclass(frozen=True)
class CrossCloudEgress:
    """What each GB a training run reads costs when the data and the compute are in different clouds."""

    parts: tuple[tuple[str, float], ...]
    """(what bills it, USD per GB)."""

    @property
    def per_gb(self) -> float:
        return round(sum(usd for _, usd in self.parts), 4)


@dataclass(frozen=True)
class StackCost:
    stack: str
    resources: list[ResourceCost]
    training: list[TrainingRun]
    egress: CrossCloudEgress | None = None

    @property
    def idle_monthly(self) -> float:
        return round(sum(r.monthly or 0.0 for r in self.resources), 2)

    @property
    def unpriced(self) -> list[ResourceCost]:
        return [r for r in self.resources if r.kind == "unpriced"]

    def to_json(self) -> dict[str, Any]:
        return {
            "idleMonthlyUsd": self.idle_monthly,
            "unpricedTypes": sorted({r.type for r in self.unpriced}),
            "resources": [
                {"urn": r.urn, "type": r.type, "name": r.name, "kind": r.kind, "monthlyUsd": r.monthly, "note": r.note}
                for r in self.resources
            ],
            "trainingRuns": [
                {
                    "resource": t.resource, "instanceType": t.instance_type, "spot": t.spot, "hourlyUsd": t.hourly,
                    "typicalHours": t.typical_hours, "typicalUsd": _round(t.typical),
                    "upperBoundHours": t.upper_hours, "upperBoundUsd": _round(t.upper), "note": t.note,
                }
                for t in self.training
            ],
            "crossCloudEgress": None if self.egress is None else {
                "perGbReadUsd": self.egress.per_gb,
                "parts": [{"what": what, "perGbUsd": usd} for what, usd in self.egress.parts],
            },
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def instance_hourly(instance_type: str, *, spot: bool) -> float | None:
    table = price_table()["instances"]
    on_demand = table["on_demand"].get(instance_type)
    if on_demand is None:
        return None
    return round(on_demand * table["spot_factor"], 4) if spot else on_demand


def _is_spot(inputs: dict[str, Any]) -> bool:
    market = inputs.get("instanceMarketOptions") or {}
    return isinstance(market, dict) and market.get("marketType") == "spot"


def gcp_machine_hourly(machine_type: str, *, spot: bool) -> float | None:
    table = price_table()["gcp"]
    on_demand = table["machines"].get(machine_type)
    if on_demand is None:
        return None
    return round(on_demand * table["spot_factor"], 4) if spot else on_demand


def _pool_min_nodes(inputs: dict[str, Any]) -> int:
    autoscaling = inputs.get("autoscaling") or {}
    return int(autoscaling.get("totalMinNodeCount") or autoscaling.get("minNodeCount") or 0)


def price(resource: Registration, *, idle_nodes: int = 0) -> ResourceCost:
    """What `resource` bills per month while nothing runs.

    `idle_nodes` is how many Kubernetes nodes the stack keeps up while idle (its node pools'
    minimums), which is what a Cloud NAT gateway bills per VM.
    """
    table = price_table()
    hours = table["hours_per_month"]
    entry = table["types"].get(resource.type)

    def cost(kind: str, monthly: float | None, note: str) -> ResourceCost:
        return ResourceCost(resource.urn, resource.type, resource.name, kind, _round(monthly), note)

    if entry is None:
        return cost("unpriced", None, "UNPRICED: this type is not in offline/data/prices.json")
    kind, note = entry["kind"], entry.get("note", "")
    inputs = reveal(resource.inputs)
    if kind == "hourly":
        return cost(kind, entry["usd"] * hours, f"${entry['usd']}/h x {hours} h; {note}".rstrip("; "))
    if kind == "monthly":
        return cost(kind, entry["usd"], note)
    if kind == "vpc-endpoint":
        if inputs.get("vpcEndpointType", "Gateway") == "Gateway":
            return cost("free", 0.0, "Gateway endpoint: free")
        zones = max(1, len(inputs.get("subnetIds") or []))
        return cost("hourly", entry["usd"] * hours * zones, f"Interface endpoint: ${entry['usd']}/h x {zones} zone(s)")
    if kind == "instance":
        instance_type = str(inputs.get("instanceType"))
        spot = _is_spot(inputs)
        hourly = instance_hourly(instance_type, spot=spot)
        if hourly is None:
            return cost("unpriced", None, f"UNPRICED: instance type {instance_type} is not in offline/data/prices.json")
        root = inputs.get("rootBlockDevice") or {}
        volume_gb = float(root.get("volumeSize") or 8)
        volume_type = str(root.get("volumeType") or "gp3")
        per_gb = table["ebs"].get(f"{volume_type}_per_gb_month")
        if per_gb is None:
            return cost("unpriced", None, f"UNPRICED: EBS volume type {volume_type} is not in offline/data/prices.json")
        market = "spot estimate" if spot else "on-demand"
        return cost(
            kind,
            hourly * hours + volume_gb * per_gb,
            f"{instance_type} {market} ${hourly}/h x {hours} h + {volume_gb:g} GB {volume_type} x ${per_gb}/GB-month",
        )
    if kind == "node-pool":
        node = inputs.get("nodeConfig") or {}
        machine = str(node.get("machineType"))
        count = _pool_min_nodes(inputs)
        if count == 0:
            return cost("usage", 0.0, f"{machine}: 0 nodes while idle; nodes bill only while pods need them")
        hourly = gcp_machine_hourly(machine, spot=bool(node.get("spot")))
        if hourly is None:
            return cost("unpriced", None, f"UNPRICED: machine type {machine} is not in offline/data/prices.json")
        disk_gb = float(node.get("diskSizeGb") or 100)
        per_gb = table["gcp"]["pd_balanced_per_gb_month"]
        return cost(
            kind,
            count * (hourly * hours + disk_gb * per_gb),
            f"{count} x {machine} at ${hourly}/h x {hours} h + {disk_gb:g} GB disk x ${per_gb}/GB-month each",
        )
    if kind == "cloud-nat":
        gcp = table["gcp"]
        hourly = gcp["external_ip_hour"] + gcp["nat_per_vm_hour"] * idle_nodes
        return cost(
            kind,
            hourly * hours,
            f"gateway IP ${gcp['external_ip_hour']}/h + {idle_nodes} idle node(s) x ${gcp['nat_per_vm_hour']}/VM-h",
        )
    if kind == "k8s-service":
        if (inputs.get("spec") or {}).get("type") != "LoadBalancer":
            return cost("free", 0.0, "ClusterIP: no cloud resource")
        rule = table["gcp"]["forwarding_rule_hour"]
        return cost("hourly", rule * hours, f"LoadBalancer: one forwarding rule ${rule}/h x {hours} h")
    if kind in ("usage", "free"):
        return cost(kind, 0.0, note or kind)
    return cost("unpriced", None, f"UNPRICED: unknown price kind {kind!r}")


def _timeout_hours(resources: Sequence[Registration]) -> float | None:
    """The longest one training run may take, every attempt at its deadline: a Batch job
    definition's attempt timeout times its attempts, or the training Job's activeDeadlineSeconds
    (the same `run_deadline_seconds`, so the bound is what the cluster enforces)."""
    found: list[int] = []
    for resource in resources:
        inputs = reveal(resource.inputs)
        if resource.type == "aws:batch/jobDefinition:JobDefinition":
            attempt = (inputs.get("timeout") or {}).get("attemptDurationSeconds")
            attempts = (inputs.get("retryStrategy") or {}).get("attempts", 1)
            if attempt:
                found.append(run_deadline_seconds(int(attempt), attempts=int(attempts)))
        elif resource.type == "kubernetes:batch/v1:CronJob" and inputs["metadata"]["name"] == TRAINING_CRONJOB:
            deadline = inputs["spec"]["jobTemplate"]["spec"].get("activeDeadlineSeconds")
            if deadline:
                found.append(int(deadline))
    return max(found) / 3600 if found else None


def training_runs(resources: Sequence[Registration]) -> list[TrainingRun]:
    """One run's compute cost on each Batch compute environment (its cheapest allowed type) or GPU node pool."""
    run = price_table()["training_run"]
    upper = _timeout_hours(resources)
    runs = []
    for resource in sorted(resources, key=lambda r: r.urn):
        if resource.type == "gcp:container/nodePool:NodePool":
            node = reveal(resource.inputs).get("nodeConfig") or {}
            if not node.get("guestAccelerators"):
                continue  # the serving pool; training runs on the GPU pool
            machine, spot = str(node.get("machineType")), bool(node.get("spot"))
            note = "a GPU node exists only while a training pod needs it (the pool scales from 0); one run bills its node-hours"
            runs.append(TrainingRun(resource.name, machine, spot, gcp_machine_hourly(machine, spot=spot),
                                    run["typical_hours"], upper, note))
            continue
        if resource.type != "aws:batch/computeEnvironment:ComputeEnvironment":
            continue
        compute = reveal(resource.inputs).get("computeResources") or {}
        spot = compute.get("type") == "SPOT"
        allowed = [str(t) for t in compute.get("instanceTypes") or []]
        priced = {t: instance_hourly(t, spot=spot) for t in allowed}
        known = {t: h for t, h in priced.items() if h is not None}
        instance_type = min(known, key=lambda t: known[t]) if known else ", ".join(allowed)
        note = (
            "instances exist only while a job runs (minvCpus 0), so a run is all the compute it bills; "
            "priced at the cheapest allowed type"
        )
        runs.append(TrainingRun(resource.name, instance_type, spot, known.get(instance_type),
                                run["typical_hours"], upper, note))
    return runs


def cross_cloud_egress(resources: Sequence[Registration]) -> CrossCloudEgress | None:
    """The per-GB cost of a training run's reads when the data is on S3 and the training runs on GKE."""
    types = {r.type for r in resources}
    if "aws:s3/bucket:Bucket" not in types or "gcp:container/nodePool:NodePool" not in types:
        return None
    table = price_table()["cross_cloud_egress"]
    parts = [("AWS data transfer out to the internet", table["aws_internet_out_per_gb"])]
    if "gcp:compute/routerNat:RouterNat" in types:
        parts.append(("Cloud NAT data processing on GKE", table["gcp_nat_processing_per_gib"]))
    return CrossCloudEgress(tuple(parts))


def stack_cost(stack: str, resources: Sequence[Registration]) -> StackCost:
    custom = sorted((r for r in resources if r.custom), key=lambda r: r.urn)
    idle_nodes = sum(_pool_min_nodes(reveal(r.inputs)) for r in custom if r.type == "gcp:container/nodePool:NodePool")
    return StackCost(stack, [price(r, idle_nodes=idle_nodes) for r in custom], training_runs(custom),
                     cross_cloud_egress(custom))


def egress_line(egress: CrossCloudEgress) -> str:
    """One line: the cost per GB a training run reads across clouds, and what bills it."""
    parts = " + ".join(f"{what} ${usd}/GB" for what, usd in egress.parts)
    return (f"cross-cloud data: each GB a training run reads from S3 costs ${egress.per_gb:g} ({parts}); "
            "the stack does not know the data set's size, so multiply by the GB each run reads")


def money(value: float | None) -> str:
    """$1,234.50; a saving as -$32.85 (the sign before the currency, as a reader writes it)."""
    if value is None:
        return "UNPRICED"
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def render_text(costs: Sequence[StackCost]) -> str:
    table = price_table()
    lines = [
        f"Idle monthly cost per stack: list prices, {table['region']}, {table['hours_per_month']} h/month, "
        f"price table of {table['as_of']} (offline/data/prices.json)",
        "",
    ]
    for cost in costs:
        lines.append(f"Stack {cost.stack}: {money(cost.idle_monthly)}/month while idle")
        for resource in cost.resources:
            if resource.kind not in ("usage", "free"):
                lines.append(f"  {money(resource.monthly):>10}  {resource.type}  {resource.name}  ({resource.note})")
        usage = sorted({r.type for r in cost.resources if r.kind == "usage"})
        if usage:
            lines.append(f"  {'$0.00':>10}  usage-priced, $0 while idle: {', '.join(usage)}")
        free = len([r for r in cost.resources if r.kind == "free"])
        lines.append(f"  {'$0.00':>10}  {free} free resources (IAM, network plumbing, bucket settings, providers)")
        for unpriced in cost.unpriced:
            lines.append(f"  UNPRICED: {unpriced.type}  {unpriced.name}: not counted in the total above")
        for run in cost.training:
            market = "spot estimate" if run.spot else "on-demand"
            upper = (
                f"; upper bound {money(run.upper)} ({run.upper_hours:g} h, every attempt at its deadline)"
                if run.upper_hours is not None
                else "; no timeout is configured, so no upper bound"
            )
            lines.append(
                f"  one training run: {money(run.typical)} ({run.instance_type} {market}, "
                f"typical {run.typical_hours:g} h{upper}); {run.note}"
            )
        if not cost.training:
            lines.append("  one training run: no priced training compute in this stack")
        if cost.egress is not None:
            lines.append(f"  {egress_line(cost.egress)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default=None, help="one stack (default: every stacks/Pulumi.*.yaml)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    stacks = [args.stack] if args.stack else stack_names()
    costs, failures = [], []
    for stack in stacks:
        try:
            costs.append(stack_cost(stack, run_stack(stack).resources))
        except Exception as error:  # a broken stack is reported, the others still priced
            failures.append(f"stack {stack}: failed: {error}")
    if args.json:
        print(json.dumps({c.stack: c.to_json() for c in costs} | {"asOf": price_table()["as_of"]}, indent=2, sort_keys=True))
    else:
        sys.stdout.write(render_text(costs))
    for failure in failures:
        print(failure, file=sys.stderr)
    return 2 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
