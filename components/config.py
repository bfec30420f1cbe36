"""The stack-config model: the whole `mlops:` namespace, parsed and validated once.

`StackConfig.from_pulumi()` is the only place in the program that reads `pulumi.Config`.
Components take the typed sections below, never raw config. Any invalid value becomes
one `ConfigError` (a `pulumi.RunError`, so the CLI prints it without a traceback) that
names the key as written in the stack file, the bad value and what is allowed.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any, Literal

import pulumi
from croniter import croniter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

PROJECT = "mlops"

# x86_64 EC2 families with NVIDIA GPUs, which is what the Deep Learning AMI and the
# NVIDIA container runtime support (g4ad is AMD, g5g is Arm).
GPU_INSTANCE_FAMILIES = (
    "g4dn", "g5", "g6", "g6e", "gr6", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en",
)
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
# A Kubernetes memory quantity with its unit, e.g. 512Mi or 2Gi (a bare number means bytes).
_MEMORY = re.compile(r"^[1-9][0-9]*(Ki|Mi|Gi|Ti|k|M|G|T)$")
BUILTIN_DATASETS = ("iris", "wine", "breast_cancer", "digits")
_CRON_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


class ConfigError(pulumi.RunError):
    """Invalid stack configuration; raised before any resource is registered."""


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
    def _region_shape(cls, value: str | None) -> str | None:
        if value is not None and not _REGION.match(value):
            raise ValueError(f"'{value}' is not an AWS region name (for example us-west-2)")
        return value


class RegistryConfig(_Section):
    kind: Literal["ecr", "artifact-registry"] = Field(
        default="ecr", description="Where images are pushed: ecr, or artifact-registry (with GKE)."
    )
    keep_images: int = Field(
        default=30, ge=1, le=1000, description="Keep the newest N images per repository."
    )


class ComputeConfig(_Section):
    kind: Literal["ec2", "gke", "none"] = Field(
        default="ec2", description="Training capacity: a GPU EC2 instance, a GKE GPU pool, or none."
    )
    instance_type: str = Field(default="g5.xlarge", description="ec2: an NVIDIA GPU instance type.")
    spot: bool | None = Field(
        default=None, description="ec2: spot capacity. Defaults to true in dev, false in prod."
    )
    machine_type: str = Field(default="g2-standard-4", description="gke: GPU node pool machine type.")
    gpu_type: str = Field(default="nvidia-l4", description="gke: accelerator type.")
    min_nodes: int = Field(default=0, ge=0, le=100, description="gke: GPU pool autoscaling minimum.")
    max_nodes: int = Field(default=2, ge=1, le=100, description="gke: GPU pool autoscaling maximum.")

    @field_validator("instance_type")
    @classmethod
    def _gpu_family(cls, value: str) -> str:
        family, _, size = value.partition(".")
        if family not in GPU_INSTANCE_FAMILIES or not size:
            raise ValueError(
                f"'{value}' is not an NVIDIA GPU instance type; "
                f"use one of the families {', '.join(GPU_INSTANCE_FAMILIES)} (for example g5.xlarge)"
            )
        return value

    @model_validator(mode="after")
    def _node_bounds(self) -> ComputeConfig:
        if self.min_nodes > self.max_nodes:
            raise _BrokenRule("minNodes", self.min_nodes, f"must be <= maxNodes ({self.max_nodes})")
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
        cron_to_on_calendar(value)  # raises ValueError with the reason
        return value

    @property
    def on_calendar(self) -> str:
        """The schedule as a systemd `OnCalendar=` expression."""
        return cron_to_on_calendar(self.schedule)


class StackConfig(BaseModel):
    """The validated `mlops:` namespace plus the few provider settings the program needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project: str
    stack: str
    aws_region: str
    environment: Environment
    storage: StorageConfig = StorageConfig()
    registry: RegistryConfig = RegistryConfig()
    compute: ComputeConfig = ComputeConfig()
    serving: ServingConfig = ServingConfig()
    training: TrainingConfig = TrainingConfig()
    kubernetes_context: str | None = Field(
        default=None,
        description="kubernetes:context: the kubeconfig context to deploy to; None is the current context.",
    )

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.PROD

    @property
    def spot(self) -> bool:
        """Spot capacity: as configured, else dev uses spot and prod on-demand."""
        return self.compute.spot if self.compute.spot is not None else not self.is_prod

    @model_validator(mode="after")
    def _environment_rules(self) -> StackConfig:
        for key, value, planned in (
            ("registry.kind", self.registry.kind, "artifact-registry"),
            ("compute.kind", self.compute.kind, "gke"),
        ):
            if value == planned:
                raise _BrokenRule(key, value, "is not supported by this program yet (GKE is planned); use ecr / ec2")
        if self.serving.cluster != "kubeconfig":
            raise _BrokenRule(
                "serving.cluster", self.serving.cluster, "is planned, not built yet; use kubeconfig (an existing cluster)"
            )
        if self.storage.backup_region == self.aws_region:
            raise _BrokenRule(
                "storage.backupRegion", self.aws_region, "must differ from aws:region, or the backup shares its fate"
            )
        if self.is_prod:
            if self.storage.backup_region is None:
                raise _BrokenRule("storage.backupRegion", None, "is required in prod (an AWS region other than aws:region)")
            if self.serving.min_replicas < 2:
                raise _BrokenRule(
                    "serving.minReplicas", self.serving.min_replicas, "must be >= 2 in prod, so a rollout or a node loss keeps serving"
                )
        return self

    @classmethod
    def from_pulumi(cls) -> StackConfig:
        """Read and validate the stack's config. The only caller of `pulumi.Config`."""
        raw: dict[str, Any] = {}
        for key in _configured_keys(PROJECT):
            if key != "environment" and key not in SECTIONS:
                raise ConfigError(
                    f"{PROJECT}:{key}: unknown key; allowed keys are environment, {', '.join(SECTIONS)}"
                )
        config = pulumi.Config(PROJECT)
        environment = config.get("environment")
        if environment is None:
            raise ConfigError(f"{PROJECT}:environment: missing; set it to dev or prod")
        raw["environment"] = environment
        for section in SECTIONS:
            value = config.get(section)
            if value is not None:
                raw[section] = _parse_object(section, value)
        region = pulumi.Config("aws").get("region")
        if not region:
            raise ConfigError("aws:region: missing; set the AWS region to deploy to (for example us-east-1)")
        return cls.parse(
            raw,
            project=pulumi.get_project(),
            stack=pulumi.get_stack(),
            aws_region=region,
            kubernetes_context=pulumi.Config("kubernetes").get("context"),
        )

    @classmethod
    def parse(
        cls, raw: dict[str, Any], *, project: str, stack: str, aws_region: str, kubernetes_context: str | None = None
    ) -> StackConfig:
        """Validate the `mlops:` values (objects already decoded) into a StackConfig."""
        try:
            return cls.model_validate(
                {**raw, "project": project, "stack": stack, "aws_region": aws_region,
                 "kubernetes_context": kubernetes_context}
            )
        except ValidationError as error:
            raise ConfigError(_describe(error.errors()[0], raw)) from None


class _BrokenRule(ValueError):
    """A cross-field rule broken: carries the key (relative to its section) and the value."""

    def __init__(self, key: str, value: Any, reason: str) -> None:
        self.key, self.value, self.reason = key, value, reason
        super().__init__(f"{key}={value!r} {reason}")


def _configured_keys(namespace: str) -> set[str]:
    """Every key set under `namespace:` in the stack, wherever the engine put it."""
    every = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    prefix = f"{namespace}:"
    return {key.removeprefix(prefix) for key in every if key.startswith(prefix)}


def _parse_object(section: str, value: str) -> Any:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ConfigError(f"{PROJECT}:{section}: must be an object of settings, got {value!r}")
    return parsed


def _describe(error: Any, raw: dict[str, Any]) -> str:
    """One line: the key as written in YAML, the bad value, what is allowed."""
    location = [str(part) for part in error["loc"]]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, _BrokenRule):
        key = ".".join([*location, cause.key])
        return f"{PROJECT}:{key}: {_show(cause.value)} {cause.reason}"
    key = f"{PROJECT}:{'.'.join(location)}"
    if error["type"] == "extra_forbidden":
        section = location[0]
        allowed = ", ".join(
            field.alias or name for name, field in _SECTION_MODELS[section].model_fields.items()
        )
        return f"{key}: unknown key; allowed keys in {PROJECT}:{section} are {allowed}"
    if error["type"] == "missing":
        return f"{key}: missing"
    message = str(cause) if isinstance(cause, ValueError) else error["msg"]
    return f"{key}: {_show(_lookup(raw, location))} is invalid: {message}"


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


def cron_to_on_calendar(schedule: str) -> str:
    """Translate a 5-field cron expression (UTC) into a systemd OnCalendar expression.

    Each field is expanded to its explicit values, which both formats can express, so
    the translation is exact. Cron ORs a restricted day-of-month with a restricted
    day-of-week while systemd ANDs them, so that combination is refused.
    """
    fields = schedule.split()
    if len(fields) != 5 or not croniter.is_valid(schedule):
        raise ValueError(
            f"'{schedule}' is not a 5-field cron expression (minute hour day-of-month month day-of-week)"
        )
    (minutes, hours, days, months, weekdays), _ = croniter.expand(schedule)
    if days != ["*"] and weekdays != ["*"]:
        raise ValueError(
            f"'{schedule}' restricts both day-of-month and day-of-week, which cron ORs; pick one"
        )

    def numbers(values: list[Any]) -> str:
        return "*" if values == ["*"] else ",".join(f"{int(v):02d}" for v in values)

    weekday_names = sorted({int(v) % 7 for v in weekdays if v != "*"})
    prefix = ",".join(_CRON_DAYS[d] for d in weekday_names) + " " if weekday_names else ""
    return f"{prefix}*-{numbers(months)}-{numbers(days)} {numbers(hours)}:{numbers(minutes)}:00 UTC"
