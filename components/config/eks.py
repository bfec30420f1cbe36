"""The `eks` section: the EKS cluster that serves (`serving.cluster: eks`): its Kubernetes version,
who may reach its API server, how serving is exposed, its logs, CI's read access and its GPU nodes."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from components.config.cidrs import check_control_plane_cidrs
from components.config.section import Section

# The oldest minor version EKS Auto Mode runs on (EKS User Guide, "Create an EKS Auto Mode cluster").
AUTO_MODE_MIN_MINOR = 29
_VERSION = re.compile(r"^1\.(\d+)$")
# CloudWatch Logs takes only these retentions (PutRetentionPolicy's retentionInDays).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
GPU_COUNTS = (1, 4, 8)
"""The GPUs per instance of the g families serving's GPU nodes come from (g4dn, g5, g6, g6e): a
GPU node carries the fewest of these that hold the largest served pod."""
ROLLOUT_SURGE = 1
"""The extra pod a serving rollout starts before it stops one (components/serving.py MAX_SURGE)."""
# An IAM role ARN, path included: arn:aws:iam::123456789012:role/ci/mlops-preview.
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


class EksConfig(Section):
    """The EKS cluster (`serving.cluster: eks`), in Auto Mode: its nodes, load balancers and storage are EKS's."""

    kubernetes_version: str = Field(
        default="1.35",
        description="The cluster's Kubernetes minor version (1.29 or newer: EKS Auto Mode's minimum). "
        "The cluster stays on standard support: raise this before its end, or EKS upgrades the cluster itself.",
    )
    public_access_cidrs: list[str] = Field(
        default_factory=list,
        description="IPv4 CIDRs allowed to reach the API server's public endpoint (where kubectl and pulumi "
        "run from outside the VPC). Empty (default): no public endpoint, the API server is reached from the "
        "VPC only. 0.0.0.0/0 is refused.",
    )
    public_endpoint: bool = Field(
        default=False,
        description="true serves through an internet-facing Network Load Balancer, and each server then "
        "requires a bearer token; false (default) keeps serving on an internal one, reachable from the VPC only.",
    )
    log_retention_days: int = Field(
        default=90,
        description="How long CloudWatch keeps the control plane's api, audit and authenticator logs "
        f"(one of {', '.join(map(str, LOG_RETENTION_DAYS))}).",
    )
    ci_role_arn: str | None = Field(
        default=None,
        description="An IAM role (CI's preview and drift role) given read-only access to every object in the "
        "cluster, Secrets included, which `pulumi preview --refresh` reads. None: no such access entry.",
    )
    gpu_nodes: int = Field(
        default=2,
        ge=1,
        le=100,
        description="The most GPU nodes serving may run at once (the GPU NodePool's limit, with serve.gpus > 0): "
        "enough for every GPU-served project's maxReplicas, plus one pod during a rollout.",
    )

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        if isinstance(value, (int, float)):
            # YAML reads 1.35 as a number, and 1.30 as 1.3.
            raise ValueError(f"write the version in quotes, \"{value}\": unquoted, YAML reads it as a number")
        return value

    @field_validator("kubernetes_version")
    @classmethod
    def _minor_version(cls, value: str) -> str:
        match = _VERSION.match(value)
        if match is None:
            raise ValueError(f"'{value}' is not a Kubernetes minor version such as 1.35")
        if int(match.group(1)) < AUTO_MODE_MIN_MINOR:
            raise ValueError(f"EKS Auto Mode needs 1.{AUTO_MODE_MIN_MINOR} or newer, got {value}")
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return check_control_plane_cidrs(value, takes="the EKS public endpoint takes", endpoint="the API server")

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            nearest = min(LOG_RETENTION_DAYS, key=lambda days: abs(days - value))
            raise ValueError(f"CloudWatch Logs keeps logs for one of its fixed periods (nearest: {nearest})")
        return value

    @field_validator("ci_role_arn")
    @classmethod
    def _role_arn(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.match(value):
            raise ValueError(
                f"'{value}' is not an IAM role ARN such as arn:aws:iam::123456789012:role/mlops-preview "
                "(an assumed-role session ARN names the role only after `assumed-role/`)"
            )
        return value


def gpus_per_node(largest_pod_gpus: int) -> int:
    """The GPUs each serving GPU node carries: the fewest of GPU_COUNTS that hold the largest pod."""
    fitting = [count for count in GPU_COUNTS if count >= largest_pod_gpus]
    if not fitting:
        raise ValueError(f"no g-family instance carries {largest_pod_gpus} GPUs (at most {GPU_COUNTS[-1]})")
    return fitting[0]
