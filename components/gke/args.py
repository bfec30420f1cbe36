"""What a GKE cluster is built from: the project, zones, access, and the sizes of its two pools."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.config import ComputeConfig


@dataclass(frozen=True)
class ServedPods:
    """One workload's demand on the CPU pool: a served project's pods, or Airflow's always-on ones
    (counted as one pod of their summed CPU, at one replica: the rolling update's room)."""

    min_replicas: int
    max_replicas: int
    millicores: int
    """CPU request of one of its pods."""


@dataclass(frozen=True)
class GkeClusterArgs:
    project: str
    """The Google Cloud project id."""
    region: str
    zones: Sequence[str]
    """Node zones; the first also hosts the zonal control plane."""
    name: str
    """The cluster's name, also the prefix of its network's resources."""
    release_channel: str
    authorized_networks: Sequence[str]
    """CIDRs that may reach the control plane's endpoint; no one else can."""
    deletion_protection: bool
    """GKE refuses to delete the cluster while true (prod, unless tearing down)."""
    compute: ComputeConfig
    """The GPU pool: machineType, gpuType, minNodes, maxNodes."""
    spot: bool
    """GPU pool on spot capacity."""
    serving: Sequence[ServedPods]
    """Each served project's replicas and CPU request per pod, and Airflow's: together they size the CPU pool."""
    image_repositories: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Artifact Registry repository names (`projects/.../repositories/...`) the nodes may pull from."""
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def location(self) -> str:
        """Where the zonal control plane runs: the first zone."""
        return self.zones[0]
