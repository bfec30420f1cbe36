"""The `gke` section: the Google Cloud project, region and zones of the GKE cluster and
Artifact Registry, and who may reach the cluster."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.config.errors import BrokenRule
from components.config.cidrs import check_control_plane_cidrs
from components.config.section import Section

# A Google Cloud project id: 6 to 30 lowercase letters, digits or hyphens, starting with a
# letter and not ending with a hyphen.
_GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
# A Google Cloud region (us-central1, europe-west4, northamerica-northeast1) and a zone of it.
_GCP_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_GCP_ZONE_SUFFIX = re.compile(r"^-[a-z]$")


class GkeConfig(Section):
    """The Google Cloud side: where the GKE cluster and Artifact Registry live, and who may reach them."""

    project: str | None = Field(
        default=None,
        description="The Google Cloud project id (e.g. mlops-prod-123456). Required for compute.kind gke "
        "and registry.kind artifact-registry.",
    )
    region: str = Field(
        default="us-central1",
        description="The Google Cloud region of the cluster's network, NAT and Artifact Registry.",
    )
    zones: list[str] = Field(
        default_factory=list,
        description="Zones of the region that run nodes; the first also runs the (zonal) control plane. "
        "Required for compute.kind gke; pick zones that offer compute.gpuType.",
    )
    authorized_networks: list[str] = Field(
        default_factory=list,
        description="IPv4 CIDRs allowed to reach the cluster's control plane (where kubectl and pulumi run). "
        "Required for compute.kind gke; 0.0.0.0/0 is refused.",
    )
    public_endpoint: bool = Field(
        default=False,
        description="true exposes the serving endpoint through a public load balancer; "
        "false (default) keeps it on an internal one, reachable from the VPC only.",
    )
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = Field(
        default="REGULAR", description="The GKE release channel that upgrades the cluster and its nodes."
    )

    @field_validator("project")
    @classmethod
    def _project_id(cls, value: str | None) -> str | None:
        if value is not None and not _GCP_PROJECT.match(value):
            raise ValueError(
                f"'{value}' is not a Google Cloud project id: 6 to 30 lowercase letters, digits or hyphens, "
                "starting with a letter (for example mlops-prod-123456)"
            )
        return value

    @field_validator("region")
    @classmethod
    def _region_shape(cls, value: str) -> str:
        if not _GCP_REGION.match(value):
            raise ValueError(f"'{value}' is not a Google Cloud region (for example us-central1)")
        return value

    @field_validator("authorized_networks")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return check_control_plane_cidrs(value, takes="GKE authorized networks take", endpoint="the control plane")

    @model_validator(mode="after")
    def _zones_in_region(self) -> GkeConfig:
        for zone in self.zones:
            if not zone.startswith(self.region) or not _GCP_ZONE_SUFFIX.match(zone.removeprefix(self.region)):
                raise BrokenRule("zones", self.zones, f"must be zones of region {self.region} (for example {self.region}-a)")
        if len(set(self.zones)) != len(self.zones):
            raise BrokenRule("zones", self.zones, "lists a zone twice")
        return self
