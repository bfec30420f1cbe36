"""What one training run costs, per training backend, and what its reads cost across clouds.

A Batch compute environment is priced at its cheapest allowed instance type and a GKE GPU
pool at its machine type, for a typical run and, where a deadline is set, an upper bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.training_cronjob import NAME as TRAINING_CRONJOB
from components.training_cronjob import run_deadline_seconds
from offline.engine import Registration
from offline.prices import gcp_machine_hourly, instance_hourly, price_table
from offline.values import reveal


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
        elif resource.type == "kubernetes:batch/v1:CronJob" and is_training_cronjob(inputs):
            deadline = inputs["spec"]["jobTemplate"]["spec"].get("activeDeadlineSeconds")
            if deadline:
                found.append(int(deadline))
    return max(found) / 3600 if found else None


def is_training_cronjob(cronjob: dict[str, Any]) -> bool:
    """A project's training CronJob, by its component label (each project names its own CronJob)."""
    return (cronjob["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == TRAINING_CRONJOB


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
