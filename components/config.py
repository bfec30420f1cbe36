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

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
BUILTIN_DATASETS = ("iris", "wine", "breast_cancer", "digits")


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
        default="ec2", description="Training capacity: AWS Batch on EC2 GPU instances, a GKE GPU pool, or none."
    )
    instance_type: tuple[str, ...] = Field(
        default=("g5.xlarge",),
        description=(
            "ec2: the GPU instance type(s) Batch may launch, one name or a list (spot then picks among them). "
            "Each must be a type the ECS AL2023 NVIDIA AMI supports."
        ),
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
                    f"'{name}' is not an NVIDIA GPU instance type that the ECS AL2023 NVIDIA AMI supports; "
                    f"use a size of the families {', '.join(GPU_INSTANCE_FAMILIES)} (for example g5.xlarge). "
                    "p3 and p3dn (Volta) are not supported by that AMI's open GPU kernel modules"
                )
        return tuple(dict.fromkeys(value))

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
        description="A training attempt that runs longer is stopped (the Batch attempt timeout); 5..1440.",
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

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.PROD

    @property
    def spot(self) -> bool:
        """Spot capacity: as configured, else dev uses spot and prod on-demand."""
        return self.compute.spot if self.compute.spot is not None else not self.is_prod

    @property
    def subnets(self) -> Literal["public", "private"]:
        """Where training jobs run: as configured, else public in dev (no NAT) and private in prod."""
        if self.compute.subnets is not None:
            return self.compute.subnets
        return "private" if self.is_prod else "public"

    @model_validator(mode="after")
    def _training_fits_compute(self) -> StackConfig:
        if self.compute.kind != "ec2":
            return self
        smallest = min(GPU_INSTANCE_TYPES[name].gpus for name in self.compute.instance_type)
        if self.training.gpus > smallest:
            raise _BrokenRule(
                "training.gpus",
                self.training.gpus,
                f"is more than the smallest of compute.instanceType has ({smallest}); "
                "the job would wait for an instance it can never get",
            )
        return self

    @model_validator(mode="after")
    def _environment_rules(self) -> StackConfig:
        for key, value, planned in (
            ("registry.kind", self.registry.kind, "artifact-registry"),
            ("compute.kind", self.compute.kind, "gke"),
        ):
            if value == planned:
                raise _BrokenRule(key, value, "is not supported by this program yet (GKE is planned); use ecr / ec2")
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
        return cls.parse(raw, project=pulumi.get_project(), stack=pulumi.get_stack(), aws_region=region)

    @classmethod
    def parse(cls, raw: dict[str, Any], *, project: str, stack: str, aws_region: str) -> StackConfig:
        """Validate the `mlops:` values (objects already decoded) into a StackConfig."""
        try:
            return cls.model_validate(
                {**raw, "project": project, "stack": stack, "aws_region": aws_region}
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
