"""`StackConfig`: the sections composed into the whole `mlops:` namespace, and its reading.

`StackConfig.from_pulumi()` is the only place in the program that reads `pulumi.Config`.
It gathers every problem first (unknown keys, sections that are no object, then the
model's own), so one `ConfigError` lists them all.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from components.config.compute import ComputeConfig
from components.config.errors import BrokenRules, ConfigError, describe, unknown_top_level_key
from components.config.legacy import OLD_SECTIONS, without_old_keys
from components.config.eks import EksConfig
from components.config.gke import GkeConfig
from components.config.monitoring import MonitoringConfig
from components.config.pipeline import PipelineConfig
from components.config.regions import check_region
from components.config.registry import RegistryConfig
from components.config.rules import broken_rules
from components.config.section import PROJECT, Section
from components.config.projects import ProjectConfig
from components.config.serving import ServingConfig
from components.config.storage import StorageConfig


class Environment(StrEnum):
    DEV = "dev"
    PROD = "prod"


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
    projects: dict[str, ProjectConfig] = Field(
        default_factory=dict,
        description="The ML projects: each name (a DNS label) maps to its train and optional serve settings.",
    )
    kubernetes_context: str | None = Field(
        default=None,
        description="kubernetes:context: the kubeconfig context to deploy to; None is the current context.",
    )
    gke: GkeConfig = GkeConfig()
    eks: EksConfig = EksConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    pipeline: PipelineConfig = PipelineConfig()

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

    @property
    def subnets(self) -> Literal["public", "private"]:
        """Where training jobs run: as configured, else public in dev (no NAT) and private in prod."""
        if self.compute.subnets is not None:
            return self.compute.subnets
        return "private" if self.is_prod else "public"

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

    @model_validator(mode="after")
    def _cross_section_rules(self) -> StackConfig:
        broken = broken_rules(self)
        if broken:
            raise BrokenRules(broken)
        return self

    @classmethod
    def from_pulumi(cls) -> StackConfig:
        """Read and validate the stack's config. The only caller of `pulumi.Config`."""
        problems = [
            unknown_top_level_key(key, SECTIONS, TOP_LEVEL_KEYS)
            for key in sorted(_configured_keys(PROJECT))
            if key not in TOP_LEVEL_KEYS and key.partition(".")[0] not in OLD_SECTIONS
        ]
        raw, not_objects = _read_namespace(pulumi.Config(PROJECT))
        problems += not_objects
        try:
            parsed = cls.parse(
                raw,
                project=pulumi.get_project(),
                stack=pulumi.get_stack(),
                aws_region=pulumi.Config("aws").get("region"),
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
        raw, moved = without_old_keys(raw)
        given = {**raw, "project": project, "stack": stack, "kubernetes_context": kubernetes_context}
        if aws_region is not None:
            given["aws_region"] = aws_region
        try:
            parsed = cls.model_validate(given)
        except ValidationError as error:
            problems = [line for problem in error.errors() for line in describe(problem, raw, _KEY_MODELS)]
            raise ConfigError(moved + problems) from None
        if moved:
            raise ConfigError(moved)
        return parsed


def _read_namespace(config: pulumi.Config) -> tuple[dict[str, Any], list[str]]:
    """The scalar keys and the decoded sections that are set, and a problem per section that is no object."""
    raw: dict[str, Any] = {}
    problems: list[str] = []
    for key in SCALAR_KEYS:
        value = config.get(key)
        if value is not None:
            raw[key] = value
    for section in (*SECTIONS, *OLD_SECTIONS):
        value = config.get(section)
        if value is None:
            continue
        parsed = _parse_object(value)
        if parsed is None:
            problems.append(f"{PROJECT}:{section}: must be an object of settings, got {value!r}")
        else:
            raw[section] = parsed
    return raw, problems


def _configured_keys(namespace: str) -> set[str]:
    """Every key set under `namespace:` in the stack, wherever the engine put it."""
    every = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    prefix = f"{namespace}:"
    return {key.removeprefix(prefix) for key in every if key.startswith(prefix)}


def _parse_object(value: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


# The object-valued keys, e.g. {"storage": StorageConfig}, as StackConfig declares them.
_SECTION_MODELS: dict[str, type[Section]] = {
    name: field.annotation
    for name, field in StackConfig.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, Section)
}
# The keys a project's settings may hold, below `projects.<name>` (for the unknown-key lines).
_KEY_MODELS: dict[str, type[Section]] = {**_SECTION_MODELS, "projects": ProjectConfig}
SECTIONS = (*_SECTION_MODELS, "projects")
# The scalar keys of the mlops: namespace, e.g. mlops:environment.
SCALAR_KEYS = ("environment", "teardown")
TOP_LEVEL_KEYS = (*SCALAR_KEYS, *SECTIONS)
