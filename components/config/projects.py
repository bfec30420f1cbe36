"""The `projects` section: each ML project's training (code, data, schedule, GPUs, gate) and its
optional serving (replicas, CPU and memory, GPUs, the model version, an own server image).

A project's name is a DNS label: it names `models/<name>/` in the bucket, its Deployment,
its CronJob or Batch job and its identities (components/project_names.py).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator, model_validator

from components.config.cron import cron_to_scheduler
from components.config.errors import BrokenRule
from components.config.monitoring import AlertOverrides
from components.config.section import Section

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILTIN_DATASETS = ("iris", "wine", "breast_cancer", "digits")
BUILTIN_TRAINER = "images/train"
"""The built-in trainer's folder: a project training from it uses the stack's one `train` image."""

_DNS_LABEL = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_PINNED_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$")
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# A Kubernetes memory quantity with its unit, e.g. 512Mi or 2Gi (a bare number means bytes).
_MEMORY = re.compile(r"^[1-9][0-9]*(Ki|Mi|Gi|Ti|k|M|G|T)$")
_CPU = re.compile(r"^(?:[1-9][0-9]*m|[0-9]+(?:\.[0-9]{1,3})?)$")


def check_project_name(name: str) -> str | None:
    """Why `name` can't name a project, or None: it must be a DNS label (RFC 1123, starting with a letter)."""
    if _DNS_LABEL.match(name):
        return None
    return "is not a DNS label: lowercase letters, digits and '-', starting with a letter, at most 63"


def cpu_quantity(millicores: int) -> str:
    """Millicores as Kubernetes writes them: whole cores as "2", else "250m" (cpu_millicores's inverse)."""
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def cpu_millicores(value: Any) -> int:
    """A Kubernetes CPU quantity (1, 2, 0.5, "250m", "0.5") in millicores; ValueError if it is none."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or not _CPU.match(str(value)):
        raise ValueError(f"{value!r} is not a Kubernetes CPU quantity such as 250m, 0.5, 1 or 2")
    text = str(value)
    try:
        millicores = int(text[:-1]) if text.endswith("m") else int(Decimal(text) * 1000)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a Kubernetes CPU quantity such as 250m, 0.5, 1 or 2") from None
    if not 10 <= millicores <= 64000:
        raise ValueError("must be between 10m and 64 cores")
    return millicores


def check_data(value: str) -> str:
    """`train.data`: builtin:<name>, s3://bucket/key, or a key in the data bucket."""
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


def check_pinned_image(value: str) -> str:
    if not _PINNED_IMAGE.match(value):
        raise ValueError("must be an image pinned by digest: <registry>/<repository>@sha256:<64 hex>")
    return value


# A training or serving image of the project's own: a tag can move under a running stack, a digest cannot.
PinnedImage = Annotated[str, AfterValidator(check_pinned_image)]


class TrainConfig(Section):
    source: str | None = Field(
        default=None,
        description="A folder of the repository, built and pushed by the program: from its Dockerfile, or from "
        "a generated one for its environment.yml (Conda) or requirements.txt (pip) beside train.py "
        f"({BUILTIN_TRAINER} is the built-in trainer). Exactly one of source or image.",
    )
    image: PinnedImage | None = Field(
        default=None, description="A prebuilt training image pinned by digest: <registry>/<repository>@sha256:<digest>."
    )
    data: str = Field(
        default="builtin:iris", description="Training data: builtin:<name>, s3://bucket/key, or a key in the data bucket."
    )
    schedule: str = Field(default="0 3 * * *", description="When training runs: a 5-field cron, UTC.")
    gpus: int = Field(default=1, ge=0, le=8, description="GPUs given to a training run.")
    timeout_minutes: int = Field(
        default=60,
        ge=5,
        le=1440,
        description="How long one attempt of a training run may take, 5..1440: the Batch attempt timeout, or on a cluster "
        "the pod's activeDeadlineSeconds (plus a GPU node's start from zero on GKE).",
    )
    min_accuracy: float = Field(
        default=0.8, ge=0, le=1, description="The quality gate: a version is promoted only at or above this accuracy."
    )
    params: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Hyperparameters: each reaches the entry point as --param name=value."
    )

    @field_validator("min_accuracy", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("data")
    @classmethod
    def _data_uri(cls, value: str) -> str:
        return check_data(value)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        cron_to_scheduler(value)  # raises ValueError with the reason
        return value

    @field_validator("params")
    @classmethod
    def _param_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not _PARAM_NAME.match(name):
                raise ValueError(f"'{name}' is not a parameter name (letters, digits, '_', '.', '-')")
        return value

    @model_validator(mode="after")
    def _one_origin(self) -> TrainConfig:
        if (self.source is None) == (self.image is None):
            raise BrokenRule("source", self.source, "give exactly one of train.source (a folder) or train.image (by digest)")
        if self.source is not None:
            _check_source_folder(self.source)
        return self

    @property
    def scheduler_expression(self) -> str:
        """The schedule as an EventBridge Scheduler `cron(...)` expression (evaluated in UTC)."""
        return cron_to_scheduler(self.schedule)

    @property
    def uses_builtin_trainer(self) -> bool:
        return self.source is not None and Path(self.source).as_posix().strip("/") == BUILTIN_TRAINER

    @property
    def source_path(self) -> Path | None:
        return None if self.source is None else REPO_ROOT / self.source


def _check_source_folder(source: str) -> None:
    folder = (REPO_ROOT / source).resolve()
    if not folder.is_relative_to(REPO_ROOT) or not folder.is_dir():
        raise BrokenRule("source", source, "is not a folder of this repository")
    if (folder / "Dockerfile").is_file():
        return
    # Imported here: components.training_dockerfile imports components.images, which imports this package.
    from components.training_dockerfile import environment_file

    try:
        environment_file(folder)
    except ValueError as reason:
        raise BrokenRule("source", source, str(reason)) from None


class ServeConfig(Section):
    min_replicas: int = Field(default=1, ge=1, le=100, description="Fewest serving pods; prod needs >= 2.")
    max_replicas: int = Field(default=3, ge=1, le=100, description="Most serving pods the autoscaler may run.")
    target_cpu_utilization: int = Field(default=70, ge=1, le=100, description="Average CPU % the autoscaler aims for.")
    cpu: int = Field(
        default=1000,
        description="CPU per serving pod, a Kubernetes quantity (250m, 0.5, 1, 2): its request and limit; "
        "one worker per whole core, at least one.",
        json_schema_extra=lambda schema: _cpu_schema(schema),
    )
    memory: str = Field(
        default="1Gi", description="Memory per serving pod, a Kubernetes quantity such as 1Gi: its request and limit."
    )
    gpus: int = Field(default=0, ge=0, le=8, description="GPUs per serving pod.")
    model_version: str = Field(default="latest", description="A version id, or latest (the promoted version).")
    image: PinnedImage | None = Field(
        default=None,
        description="A server of the project's own, pinned by digest, speaking the Open Inference Protocol on 8080.",
    )
    alerts: AlertOverrides = Field(
        default_factory=AlertOverrides,
        description="This project's own alert thresholds; each key left out takes monitoring.alerts's value.",
    )

    @field_validator("cpu", mode="before")
    @classmethod
    def _millicores(cls, value: Any) -> int:
        return cpu_millicores(value)

    @field_validator("memory")
    @classmethod
    def _memory_quantity(cls, value: str) -> str:
        if not _MEMORY.match(value):
            raise ValueError(f"'{value}' is not a Kubernetes memory quantity such as 512Mi or 2Gi")
        return value

    @model_validator(mode="after")
    def _replica_bounds(self) -> ServeConfig:
        if self.min_replicas > self.max_replicas:
            raise BrokenRule("minReplicas", self.min_replicas, f"must be <= maxReplicas ({self.max_replicas})")
        return self

    @property
    def cpu_quantity(self) -> str:
        """The CPU as Kubernetes takes it: whole cores as "1", else millicores as "250m"."""
        return cpu_quantity(self.cpu)

    @property
    def workers(self) -> int:
        """Server processes: one per whole core of the limit, at least one."""
        return max(1, self.cpu // 1000)


def _cpu_schema(schema: dict[str, Any]) -> None:
    schema.pop("type", None)
    schema["default"] = 1
    schema["anyOf"] = [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "pattern": _CPU.pattern}]


class ProjectConfig(Section):
    train: TrainConfig | None = Field(default=None, description="How the project trains; None: it only serves.")
    serve: ServeConfig | None = Field(default=None, description="How the project is served; None: it only trains.")

    @model_validator(mode="after")
    def _serves_something(self) -> ProjectConfig:
        if self.train is None and self.serve is None:
            raise BrokenRule("train", None, "a project needs train, serve, or both")
        if self.train is None and self.serve is not None and self.serve.model_version == "latest":
            raise BrokenRule(
                "serve.modelVersion",
                "latest",
                "needs a fixed version id when the project has no train: nothing would ever promote one",
            )
        return self


def training_data_uri(data: str, bucket_name: str) -> str:
    """`train.data` as the training job's --data: builtin: and s3:// as given, else a key in the data bucket."""
    if data.startswith(("builtin:", "s3://")):
        return data
    return f"s3://{bucket_name}/{data.lstrip('/')}"
