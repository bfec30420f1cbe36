"""The `serving` section: where the model server runs, how it scales and what one pod gets."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from components.config.errors import BrokenRule
from components.config.section import Section

_MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
# A Kubernetes memory quantity with its unit, e.g. 512Mi or 2Gi (a bare number means bytes).
_MEMORY = re.compile(r"^[1-9][0-9]*(Ki|Mi|Gi|Ti|k|M|G|T)$")


class ServingConfig(Section):
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
            raise BrokenRule("minReplicas", self.min_replicas, f"must be <= maxReplicas ({self.max_replicas})")
        return self
