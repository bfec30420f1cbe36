"""The stack-config model: the whole `mlops:` namespace, parsed and validated once.

`StackConfig.from_pulumi()` is the only place in the program that reads `pulumi.Config`.
Components take the typed sections below, never raw config. Any invalid value becomes
one `ConfigError` (a `pulumi.RunError`, so the CLI prints it without a traceback) that
names the key as written in the stack file, the bad value and what is allowed.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from enum import StrEnum
from collections.abc import Iterable
from typing import Any, Literal

import pulumi
from pulumi_aws import Region
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.instance_types import GPU_INSTANCE_FAMILIES, GPU_INSTANCE_TYPES

PROJECT = "mlops"

# Google Cloud's accelerator-optimized machine families and the one GPU each carries; N1
# machines take the older GPUs attached to them instead.
GKE_GPU_MACHINES = {
    "g2-": ("nvidia-l4",),
    "a2-highgpu-": ("nvidia-tesla-a100",),
    "a2-megagpu-": ("nvidia-tesla-a100",),
    "a2-ultragpu-": ("nvidia-a100-80gb",),
    "a3-highgpu-": ("nvidia-h100-80gb",),
    "a3-megagpu-": ("nvidia-h100-mega-80gb",),
    "n1-": ("nvidia-tesla-t4", "nvidia-tesla-v100", "nvidia-tesla-p4", "nvidia-tesla-p100"),
}
# The regions of the commercial `aws` partition, as the provider SDK lists them. The
# program's ARNs and service principals assume that partition (not aws-cn, aws-us-gov).
AWS_REGIONS = tuple(
    sorted(r.value for r in Region if not r.value.startswith(("cn-", "us-gov-", "eusc-")) and "-iso" not in r.value)
)
_MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
# A Kubernetes memory quantity with its unit, e.g. 512Mi or 2Gi (a bare number means bytes).
_MEMORY = re.compile(r"^[1-9][0-9]*(Ki|Mi|Gi|Ti|k|M|G|T)$")
# A Google Cloud project id: 6 to 30 lowercase letters, digits or hyphens, starting with a
# letter and not ending with a hyphen.
_GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")

# The sample values the stack files ship with, to be replaced before a real deploy. One list,
# read by `make plan` (offline/plan.py), which names each one still in a stack file.
SAMPLE_GCP_PROJECT = "mlops-prod-123456"
DOCUMENTATION_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
"""RFC 5737's documentation ranges: no real machine has one of these addresses."""


def placeholder(value: Any) -> str | None:
    """Why `value` is a sample to replace (the sample project id, a documentation range), else None."""
    if value == SAMPLE_GCP_PROJECT:
        return "the sample project id: use your Google Cloud project's id"
    try:
        network = ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return None
    if any(network.version == 4 and network.subnet_of(doc) for doc in DOCUMENTATION_NETWORKS):  # type: ignore[arg-type]
        return "a documentation range (RFC 5737) that no real network uses: use your own CIDRs"
    return None
# A Google Cloud region (us-central1, europe-west4, northamerica-northeast1) and a zone of it.
_GCP_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_GCP_ZONE_SUFFIX = re.compile(r"^-[a-z]$")
BUILTIN_DATASETS = ("iris", "wine", "breast_cancer", "digits")


def _one_or_many(schema: dict[str, Any], choices: list[str]) -> None:
    """JSON Schema for a setting written as one of `choices` or a non-empty list of them."""
    for key in ("type", "items", "default"):
        schema.pop(key, None)
    schema["anyOf"] = [{"enum": choices}, {"type": "array", "items": {"enum": choices}, "minItems": 1}]


class ConfigError(pulumi.RunError):
    """Invalid stack configuration; raised before any resource is registered.

    Carries every problem found, one line each, so a user fixes them all in one pass.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        if len(problems) == 1:
            super().__init__(problems[0])
        else:
            lines = "\n".join(f"  {problem}" for problem in problems)
            super().__init__(f"{len(problems)} problems in the stack config:\n{lines}")


class Environment(StrEnum):
    DEV = "dev"
    PROD = "prod"


class _Section(BaseModel):
    """Stack-file sections: camelCase keys, unknown keys rejected, immutable once parsed."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        strict=True,
    )


class StorageConfig(_Section):
    backup_region: str | None = Field(
        default=None,
        description="Replicate every object to a bucket in this AWS region. Required in prod.",
        json_schema_extra={"enum": [*AWS_REGIONS, None]},
    )
    noncurrent_version_days: int = Field(
        default=30, ge=1, description="Days a superseded object version is kept before it expires."
    )
    archive_after_days: int | None = Field(
        default=None,
        ge=30,
        description="Move objects to Glacier Instant Retrieval after this many days (S3 needs >= 30).",
    )

    @field_validator("backup_region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        return None if value is None else check_region(value)


class RegistryConfig(_Section):
    kind: Literal["ecr", "artifact-registry"] = Field(
        default="ecr", description="Where images are pushed: ecr, or artifact-registry (with GKE)."
    )
    keep_images: int = Field(
        default=30, ge=1, le=1000, description="Keep the newest N images per repository."
    )


class ComputeConfig(_Section):
    kind: Literal["ec2", "gke", "none"] = Field(
        default="ec2", description="Training capacity: AWS Batch on EC2 GPU instances, a GKE GPU pool, or none."
    )
    instance_type: tuple[str, ...] = Field(
        default=("g5.xlarge",),
        description=(
            "ec2: the GPU instance type(s) Batch may launch, one name or a list (spot then picks among them). "
            "Each must be a type the ECS AL2023 NVIDIA AMI supports."
        ),
        # The stack file may give one name or a list; a before-validator makes both a tuple.
        json_schema_extra=lambda schema: _one_or_many(schema, sorted(GPU_INSTANCE_TYPES)),
    )
    spot: bool | None = Field(
        default=None, description="ec2: spot capacity. Defaults to true in dev, false in prod."
    )
    subnets: Literal["public", "private"] | None = Field(
        default=None,
        description=(
            "ec2: where jobs run. public: public subnets, a public IPv4 per instance, no NAT gateway. "
            "private: private subnets behind one NAT gateway. Defaults to public in dev, private in prod."
        ),
    )
    machine_type: str = Field(default="g2-standard-4", description="gke: GPU node pool machine type.")
    gpu_type: str = Field(default="nvidia-l4", description="gke: accelerator type.")
    min_nodes: int = Field(default=0, ge=0, le=100, description="gke: GPU pool autoscaling minimum.")
    max_nodes: int = Field(default=2, ge=1, le=100, description="gke: GPU pool autoscaling maximum.")

    @field_validator("instance_type", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        """A single name is a list of one; a list becomes a tuple (the model is immutable)."""
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list):
            return tuple(value)
        return value

    @field_validator("instance_type")
    @classmethod
    def _supported_gpu_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must name at least one GPU instance type (for example g5.xlarge)")
        for name in value:
            if name not in GPU_INSTANCE_TYPES:
                raise ValueError(
                    f"'{name}' is not an NVIDIA GPU instance type that the ECS AL2023 NVIDIA AMI supports"
                    # No suggestion for Volta: its near names are other families, not a fix.
                    f"{'' if name.partition('.')[0] in ('p3', 'p3dn') else _did_you_mean(name, GPU_INSTANCE_TYPES)}; "
                    f"use a size of the families {', '.join(GPU_INSTANCE_FAMILIES)} (for example g5.xlarge). "
                    "p3 and p3dn (Volta) are not supported by that AMI's open GPU kernel modules"
                )
        return tuple(dict.fromkeys(value))

    @model_validator(mode="after")
    def _node_bounds(self) -> ComputeConfig:
        if self.min_nodes > self.max_nodes:
            raise _BrokenRule("minNodes", self.min_nodes, f"must be <= maxNodes ({self.max_nodes})")
        if self.kind == "gke":
            family = next((f for f in GKE_GPU_MACHINES if self.machine_type.startswith(f)), None)
            if family is None:
                raise _BrokenRule(
                    "machineType",
                    self.machine_type,
                    f"is not a GPU machine type GKE offers; use one of the families {', '.join(GKE_GPU_MACHINES)}",
                )
            if self.gpu_type not in GKE_GPU_MACHINES[family]:
                raise _BrokenRule(
                    "gpuType", self.gpu_type, f"does not fit machineType {self.machine_type}; it carries {' or '.join(GKE_GPU_MACHINES[family])}"
                )
        return self


class ServingConfig(_Section):
    cluster: Literal["kubeconfig", "gke", "eks"] = Field(
        default="kubeconfig", description="The Kubernetes cluster the model server runs on."
    )
    min_replicas: int = Field(default=1, ge=1, le=100, description="Fewest serving pods; prod needs >= 2.")
    max_replicas: int = Field(default=3, ge=1, le=100, description="Most serving pods the autoscaler may run.")
    target_cpu_utilization: int = Field(
        default=70, ge=1, le=100, description="Average CPU % the autoscaler aims for."
    )
    gpus: int = Field(default=0, ge=0, le=8, description="GPUs per serving pod.")
    model: str = Field(default="iris", description="Serve models/<model>/<version>/ from the bucket.")
    model_version: str = Field(
        default="latest", description="A version id, or latest (the promoted version)."
    )
    cpu: int = Field(
        default=1, ge=1, le=64, description="CPU cores per serving pod: its CPU request and limit, and its worker count."
    )
    memory: str = Field(
        default="1Gi", description="Memory per serving pod, a Kubernetes quantity such as 1Gi: its request and limit."
    )

    @field_validator("cpu", mode="before")
    @classmethod
    def _whole_cores(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError(
                f"must be a whole number of cores (1, 2, ...), not {value}: the server runs one worker "
                "process per core (WEB_CONCURRENCY = cpu), and the pod's CPU request and limit are that many cores"
            )
        return value

    @field_validator("memory")
    @classmethod
    def _memory_quantity(cls, value: str) -> str:
        if not _MEMORY.match(value):
            raise ValueError(f"'{value}' is not a Kubernetes memory quantity such as 512Mi or 2Gi")
        return value

    @field_validator("model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if not _MODEL_NAME.match(value):
            raise ValueError(f"'{value}' must be lowercase letters, digits, '.', '_' or '-' (max 63)")
        return value

    @model_validator(mode="after")
    def _replica_bounds(self) -> ServingConfig:
        if self.min_replicas > self.max_replicas:
            raise _BrokenRule("minReplicas", self.min_replicas, f"must be <= maxReplicas ({self.max_replicas})")
        return self


class TrainingConfig(_Section):
    schedule: str = Field(default="0 3 * * *", description="When training runs: a 5-field cron, UTC.")
    gpus: int = Field(default=1, ge=0, le=8, description="GPUs given to a training run.")
    timeout_minutes: int = Field(
        default=60,
        ge=5,
        le=1440,
        description="How long one attempt of a training run may take, 5..1440: the Batch attempt timeout, or on a cluster "
        "the pod's activeDeadlineSeconds (plus a GPU node's start from zero on GKE).",
    )
    data: str = Field(
        default="builtin:iris",
        description="Training data: builtin:<name>, s3://bucket/key, or a key in the data bucket.",
    )

    @field_validator("data")
    @classmethod
    def _data_uri(cls, value: str) -> str:
        scheme, separator, rest = value.partition("://")
        if not value.isprintable() or " " in value:
            raise ValueError("must be one line without spaces or control characters")
        if value.startswith("builtin:"):
            if value.removeprefix("builtin:") not in BUILTIN_DATASETS:
                raise ValueError(f"builtin data sets are {', '.join(BUILTIN_DATASETS)}")
        elif separator and (scheme != "s3" or "/" not in rest):
            raise ValueError("use builtin:<name>, s3://bucket/key, or a key in the data bucket")
        elif not value.strip("/"):
            raise ValueError("must not be empty")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        cron_to_scheduler(value)  # raises ValueError with the reason
        return value

    @property
    def scheduler_expression(self) -> str:
        """The schedule as an EventBridge Scheduler `cron(...)` expression (evaluated in UTC)."""
        return cron_to_scheduler(self.schedule)


class GkeConfig(_Section):
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
        for cidr in value:
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError as error:
                raise ValueError(f"'{cidr}' is not a CIDR such as 203.0.113.0/24 ({error})") from None
            if network.version != 4:
                raise ValueError(f"'{cidr}' is IPv6; GKE authorized networks take IPv4 CIDRs")
            if network.prefixlen == 0:
                # The control plane would answer the whole internet; list the networks that
                # run kubectl and pulumi instead (a CI runner's egress range, an office, a VPN).
                raise ValueError(f"'{cidr}' opens the control plane to the whole internet; list your own networks")
        if len(set(value)) != len(value):
            raise ValueError("lists a network twice")
        return value

    @model_validator(mode="after")
    def _zones_in_region(self) -> GkeConfig:
        for zone in self.zones:
            if not zone.startswith(self.region) or not _GCP_ZONE_SUFFIX.match(zone.removeprefix(self.region)):
                raise _BrokenRule("zones", self.zones, f"must be zones of region {self.region} (for example {self.region}-a)")
        if len(set(self.zones)) != len(self.zones):
            raise _BrokenRule("zones", self.zones, "lists a zone twice")
        return self


def training_data_uri(data: str, bucket_name: str) -> str:
    """`training.data` as the training job's --data: builtin: and s3:// as given, else a key
    in the data bucket."""
    if data.startswith(("builtin:", "s3://")):
        return data
    return f"s3://{bucket_name}/{data.lstrip('/')}"


class StackConfig(BaseModel):
    """The validated `mlops:` namespace plus the few provider settings the program needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project: str
    stack: str
    aws_region: str
    environment: Environment
    teardown: bool = Field(
        default=False,
        description="true lifts prod's protection so `pulumi destroy` can delete the data and "
        "images; set by `make teardown`, never by hand in a stack file.",
    )
    storage: StorageConfig = StorageConfig()
    registry: RegistryConfig = RegistryConfig()
    compute: ComputeConfig = ComputeConfig()
    serving: ServingConfig = ServingConfig()
    training: TrainingConfig = TrainingConfig()
    kubernetes_context: str | None = Field(
        default=None,
        description="kubernetes:context: the kubeconfig context to deploy to; None is the current context.",
    )
    gke: GkeConfig = GkeConfig()

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.PROD

    @property
    def protect_data(self) -> bool:
        """prod keeps its data and images through `pulumi destroy`, unless tearing down."""
        return self.is_prod and not self.teardown

    @property
    def key_deletion_window_days(self) -> int:
        """How long a deleted KMS key stays restorable: prod's data deserves the longest undo."""
        return 30 if self.is_prod else 7

    @property
    def spot(self) -> bool:
        """Spot capacity: as configured, else dev uses spot and prod on-demand."""
        return self.compute.spot if self.compute.spot is not None else not self.is_prod

    @field_validator("aws_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        return check_region(value)

    @field_validator("teardown", mode="before")
    @classmethod
    def _true_or_false(cls, value: Any) -> Any:
        # The CLI hands scalars over as text; a switch this dangerous takes only true or false.
        if value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value

    @property
    def subnets(self) -> Literal["public", "private"]:
        """Where training jobs run: as configured, else public in dev (no NAT) and private in prod."""
        if self.compute.subnets is not None:
            return self.compute.subnets
        return "private" if self.is_prod else "public"


    @model_validator(mode="after")
    def _environment_rules(self) -> StackConfig:
        broken: list[_BrokenRule] = self._google_cloud_rules()
        if self.compute.kind == "ec2":
            smallest = min(GPU_INSTANCE_TYPES[name].gpus for name in self.compute.instance_type)
            if self.training.gpus > smallest:
                broken.append(
                    _BrokenRule(
                        "training.gpus",
                        self.training.gpus,
                        f"is more than the smallest of compute.instanceType has ({smallest}); "
                        "the job would wait for an instance it can never get",
                    )
                )
        if self.serving.cluster == "eks":
            broken.append(
                _BrokenRule("serving.cluster", self.serving.cluster, "is planned, not built yet; use kubeconfig or gke")
            )
        if self.storage.backup_region == self.aws_region:
            broken.append(
                _BrokenRule(
                    "storage.backupRegion", self.aws_region, "must differ from aws:region, or the backup shares its fate"
                )
            )
        if self.is_prod:
            if self.storage.backup_region is None:
                broken.append(
                    _BrokenRule("storage.backupRegion", None, "is required in prod (an AWS region other than aws:region)")
                )
            if self.serving.min_replicas < 2:
                broken.append(
                    _BrokenRule(
                        "serving.minReplicas",
                        self.serving.min_replicas,
                        "must be >= 2 in prod, so a rollout or a node loss keeps serving",
                    )
                )
        if broken:
            raise _BrokenRules(broken)
        return self

    def _google_cloud_rules(self) -> list[_BrokenRule]:
        """The combinations GKE and Artifact Registry need, each naming its key."""
        broken: list[_BrokenRule] = []
        on_gke = self.compute.kind == "gke"
        if self.serving.cluster == "gke" and not on_gke:
            broken.append(
                _BrokenRule("serving.cluster", "gke", f"needs compute.kind: gke (the program's GKE cluster), not {self.compute.kind}")
            )
        if on_gke and self.serving.cluster != "gke":
            broken.append(
                _BrokenRule(
                    "serving.cluster",
                    self.serving.cluster,
                    "must be gke with compute.kind: gke: training runs as a CronJob on the cluster's GPU pool, beside serving",
                )
            )
        if (on_gke or self.registry.kind == "artifact-registry") and self.gke.project is None:
            needs = "compute.kind: gke" if on_gke else "registry.kind: artifact-registry"
            broken.append(_BrokenRule("gke.project", None, f"is required with {needs} (the Google Cloud project id)"))
        if on_gke and self.registry.kind != "artifact-registry":
            broken.append(
                _BrokenRule(
                    "registry.kind",
                    self.registry.kind,
                    "must be artifact-registry with compute.kind: gke: the nodes pull with their own service "
                    "account, where ECR would need a static pull token",
                )
            )
        if self.compute.kind == "ec2" and self.registry.kind != "ecr":
            broken.append(
                _BrokenRule(
                    "registry.kind", self.registry.kind, "must be ecr with compute.kind: ec2: the instance pulls with its IAM role"
                )
            )
        if on_gke and not self.gke.zones:
            broken.append(
                _BrokenRule("gke.zones", None, f"is required with compute.kind: gke (for example [{self.gke.region}-a])")
            )
        if on_gke and not self.gke.authorized_networks:
            broken.append(
                _BrokenRule(
                    "gke.authorizedNetworks",
                    None,
                    "is required with compute.kind: gke: the CIDRs that run kubectl and pulumi (the control plane "
                    "admits no one else)",
                )
            )
        return broken

    @classmethod
    def from_pulumi(cls) -> StackConfig:
        """Read and validate the stack's config. The only caller of `pulumi.Config`."""
        problems = [
            _unknown_top_level_key(key) for key in sorted(_configured_keys(PROJECT)) if key not in TOP_LEVEL_KEYS
        ]
        config = pulumi.Config(PROJECT)
        raw: dict[str, Any] = {}
        for key in SCALAR_KEYS:
            value = config.get(key)
            if value is not None:
                raw[key] = value
        for section in SECTIONS:
            value = config.get(section)
            if value is None:
                continue
            parsed = _parse_object(value)
            if parsed is None:
                problems.append(f"{PROJECT}:{section}: must be an object of settings, got {value!r}")
            else:
                raw[section] = parsed
        region = pulumi.Config("aws").get("region")
        try:
            parsed = cls.parse(
                raw,
                project=pulumi.get_project(),
                stack=pulumi.get_stack(),
                aws_region=region,
                kubernetes_context=pulumi.Config("kubernetes").get("context"),
            )
        except ConfigError as error:
            raise ConfigError(problems + error.problems) from None
        if problems:
            raise ConfigError(problems)
        return parsed

    @classmethod
    def parse(
        cls,
        raw: dict[str, Any],
        *,
        project: str,
        stack: str,
        aws_region: str | None,
        kubernetes_context: str | None = None,
    ) -> StackConfig:
        """Validate the `mlops:` values (objects already decoded) into a StackConfig."""
        given = {**raw, "project": project, "stack": stack, "kubernetes_context": kubernetes_context}
        if aws_region is not None:
            given["aws_region"] = aws_region
        try:
            return cls.model_validate(given)
        except ValidationError as error:
            raise ConfigError([line for problem in error.errors() for line in _describe(problem, raw)]) from None


class _BrokenRule(ValueError):
    """A cross-field rule broken: carries the key (relative to its section) and the value."""

    def __init__(self, key: str, value: Any, reason: str) -> None:
        self.key, self.value, self.reason = key, value, reason
        super().__init__(f"{key}={value!r} {reason}")


class _BrokenRules(ValueError):
    """Every stack-wide rule that is broken, reported together."""

    def __init__(self, rules: list[_BrokenRule]) -> None:
        self.rules = rules
        super().__init__("; ".join(str(rule) for rule in rules))


def check_region(value: str) -> str:
    """`value` if it is a region of the aws partition, else a ValueError that suggests one."""
    if value not in AWS_REGIONS:
        close = difflib.get_close_matches(value, AWS_REGIONS, n=1)
        hint = f"; did you mean {close[0]}?" if close else f" (for example us-east-1; known: {', '.join(AWS_REGIONS)})"
        raise ValueError(f"'{value}' is not an AWS region{hint}")
    return value


def _configured_keys(namespace: str) -> set[str]:
    """Every key set under `namespace:` in the stack, wherever the engine put it."""
    every = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    prefix = f"{namespace}:"
    return {key.removeprefix(prefix) for key in every if key.startswith(prefix)}


def _unknown_top_level_key(key: str) -> str:
    section, dot, field = key.partition(".")
    if dot and section in SECTIONS:
        # `pulumi config set mlops:storage.backupRegion x` without --path makes a flat key.
        return (
            f"{PROJECT}:{key}: is set as one flat key, so the program never sees it; set nested "
            f"settings with --path: `pulumi config set --path '{PROJECT}:{key}' <value>`, which "
            f"writes {field} under {PROJECT}:{section}"
        )
    return f"{PROJECT}:{key}: unknown key{_did_you_mean(key, TOP_LEVEL_KEYS)}; allowed keys are {', '.join(TOP_LEVEL_KEYS)}"


def _did_you_mean(key: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _parse_object(value: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


# Where pydantic names a StackConfig field, the stack file names this key.
_KEY_NAMES = {"aws_region": "aws:region"}


def _describe(error: Any, raw: dict[str, Any]) -> list[str]:
    """One line per problem: the key as written in YAML, the bad value, what is allowed."""
    location = [str(part) for part in error["loc"]]
    cause = error.get("ctx", {}).get("error")
    rules = cause.rules if isinstance(cause, _BrokenRules) else [cause] if isinstance(cause, _BrokenRule) else []
    if rules:
        return [f"{PROJECT}:{'.'.join([*location, rule.key])}: {_show(rule.value)} {rule.reason}" for rule in rules]
    dotted = ".".join(location)
    key = _KEY_NAMES.get(dotted, f"{PROJECT}:{dotted}")
    if error["type"] == "extra_forbidden":
        section = location[0]
        allowed = [field.alias or name for name, field in _SECTION_MODELS[section].model_fields.items()]
        return [
            f"{key}: unknown key{_did_you_mean(location[-1], allowed)}; "
            f"allowed keys in {PROJECT}:{section} are {', '.join(allowed)}"
        ]
    if error["type"] == "missing":
        return [f"{key}: missing; {_MISSING_HINTS.get(key, 'set it in the stack file')}"]
    message = str(cause) if isinstance(cause, ValueError) else error["msg"]
    value = _lookup(raw, location) if dotted not in _KEY_NAMES else error.get("input")
    return [f"{key}: {_show(value)} is invalid: {message}{_unquote_hint(error)}"]


_MISSING_HINTS = {
    f"{PROJECT}:environment": "set it to dev or prod",
    "aws:region": "set the AWS region to deploy to (for example us-east-1)",
}


def _unquote_hint(error: Any) -> str:
    """A number or boolean written in quotes is a string to YAML: say how to write it."""
    value = error.get("input")
    if not isinstance(value, str):
        return ""
    if error["type"] in ("int_type", "int_parsing") and re.fullmatch(r"-?\d+", value.strip()):
        return f"; write it as a YAML number, {value.strip()}, without quotes"
    if error["type"] in ("bool_type", "bool_parsing") and value.strip().lower() in ("true", "false"):
        return f"; write it as a YAML boolean, {value.strip().lower()}, without quotes"
    return ""


def _lookup(raw: dict[str, Any], location: list[str]) -> Any:
    value: Any = raw
    for part in location:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _show(value: Any) -> str:
    return "(unset)" if value is None else json.dumps(value)


# The object-valued keys, e.g. {"storage": StorageConfig}, as StackConfig declares them.
_SECTION_MODELS: dict[str, type[_Section]] = {
    name: field.annotation
    for name, field in StackConfig.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, _Section)
}
SECTIONS = tuple(_SECTION_MODELS)
# The scalar keys of the mlops: namespace, e.g. mlops:environment.
SCALAR_KEYS = ("environment", "teardown")
TOP_LEVEL_KEYS = (*SCALAR_KEYS, *SECTIONS)


# Cron's five fields: name, lowest, highest, names accepted instead of numbers.
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...], int], ...] = (
    # (name, lowest, highest, names, number of the first name)
    ("minute", 0, 59, (), 0),
    ("hour", 0, 23, (), 0),
    ("day-of-month", 1, 31, (), 1),
    ("month", 1, 12, _MONTHS, 1),
    ("day-of-week", 0, 7, _WEEKDAYS, 0),  # 0 and 7 are both Sunday
)
_CRON_SHAPE = "minute hour day-of-month month day-of-week"


def cron_to_scheduler(schedule: str) -> str:
    """Translate a 5-field cron expression (UTC) into EventBridge Scheduler's 6-field `cron(...)`.

    Scheduler's fields are `minutes hours day-of-month month day-of-week year`, with `?` in
    whichever day field is unrestricted, and days of the week numbered 1-7 = SUN-SAT where
    cron numbers them 0-6 (and 7) = Sun-Sat. Each restricted field is expanded to its explicit
    values (written back as lists and ranges), so the translation is exact; weekdays are
    written as names, which Scheduler accepts and nobody can misnumber.

    Cron runs a job when *either* a restricted day-of-month or a restricted day-of-week
    matches; Scheduler must leave one of them unrestricted (`?`), so restricting both is
    refused. Raises ValueError with the reason, naming the field at fault.
    """
    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError(f"'{schedule}' is not a 5-field cron expression ({_CRON_SHAPE})")
    values = [_cron_field(text, *spec) for text, spec in zip(fields, _CRON_FIELDS, strict=True)]
    minutes, hours, days, months, weekdays = values
    day_text, weekday_text = fields[2], fields[4]
    if day_text != "*" and weekday_text != "*":
        raise ValueError(
            f"'{schedule}' restricts both day-of-month ({day_text}) and day-of-week ({weekday_text}); "
            "cron runs when either matches, which EventBridge Scheduler cannot express; set one of them to *"
        )

    def numbers(field: set[int], low: int, high: int) -> str:
        return "*" if field == set(range(low, high + 1)) else _runs(sorted(field), str)

    if weekday_text == "*":
        day_of_month, day_of_week = numbers(days, 1, 31), "?"
    else:
        # cron 0..6 = Sun..Sat becomes Scheduler 1..7 = SUN..SAT.
        scheduler_days = {day % 7 + 1 for day in weekdays}
        day_of_month = "?"
        day_of_week = "*" if len(scheduler_days) == 7 else _runs(sorted(scheduler_days), lambda d: _WEEKDAYS[d - 1])
    return (
        f"cron({numbers(minutes, 0, 59)} {numbers(hours, 0, 23)} {day_of_month} "
        f"{numbers(months, 1, 12)} {day_of_week} *)"
    )


def _cron_field(text: str, name: str, low: int, high: int, names: tuple[str, ...], first: int) -> set[int]:
    """The values one cron field selects: `*`, `n`, `a-b`, any of them `/step`, joined by commas."""
    allowed = f"{name} is {low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")

    def number(token: str) -> int:
        if token.upper() in names:
            return names.index(token.upper()) + first
        if not token.isdigit():
            raise ValueError(f"the {name} field has '{token}', which is not a number ({allowed})")
        value = int(token)
        if not low <= value <= high:
            raise ValueError(f"the {name} field has {value}, which is out of range ({allowed})")
        return value

    selected: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"the {name} field has step '{step_text}'; a step is a whole number >= 1")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            start_text, _, end_text = base.partition("-")
            start, end = number(start_text), number(end_text)
            if start > end:
                raise ValueError(f"the {name} field has the range {base}, which runs backwards ({allowed})")
        else:
            start = number(base)
            end = high if slash else start  # cron reads `a/step` as `a-highest/step`
        selected.update(range(start, end + 1, step))
    if name == "day-of-week":
        selected = {day % 7 for day in selected}  # 7 is Sunday again
    return selected


def _runs(values: list[int], show: Any) -> str:
    """`[1, 2, 3, 5]` -> `1-3,5`: runs of three or more become ranges; exact either way."""
    parts: list[str] = []
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and values[end + 1] == values[end] + 1:
            end += 1
        if end - start >= 2:
            parts.append(f"{show(values[start])}-{show(values[end])}")
        else:
            parts.extend(show(v) for v in values[start : end + 1])
        start = end + 1
    return ",".join(parts)
