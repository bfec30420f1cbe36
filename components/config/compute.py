"""The `compute` section: the training capacity, AWS Batch GPU instances or a GKE GPU pool.

The EC2 GPU types come from components/instance_types.py; the GKE machine families and
the GPUs each carries are listed here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from components.config.errors import BrokenRule, did_you_mean
from components.config.section import Section
from components.instance_types import GPU_INSTANCE_FAMILIES, GPU_INSTANCE_TYPES

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


def _one_or_many_schema(schema: dict[str, Any], choices: list[str]) -> None:
    """JSON Schema for a setting written as one of `choices` or a non-empty list of them."""
    for key in ("type", "items", "default"):
        schema.pop(key, None)
    schema["anyOf"] = [{"enum": choices}, {"type": "array", "items": {"enum": choices}, "minItems": 1}]


class ComputeConfig(Section):
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
        json_schema_extra=lambda schema: _one_or_many_schema(schema, sorted(GPU_INSTANCE_TYPES)),
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
                    f"{'' if name.partition('.')[0] in ('p3', 'p3dn') else did_you_mean(name, GPU_INSTANCE_TYPES)}; "
                    f"use a size of the families {', '.join(GPU_INSTANCE_FAMILIES)} (for example g5.xlarge). "
                    "p3 and p3dn (Volta) are not supported by that AMI's open GPU kernel modules"
                )
        return tuple(dict.fromkeys(value))

    @model_validator(mode="after")
    def _node_bounds(self) -> ComputeConfig:
        if self.min_nodes > self.max_nodes:
            raise BrokenRule("minNodes", self.min_nodes, f"must be <= maxNodes ({self.max_nodes})")
        if self.kind == "gke":
            family = next((f for f in GKE_GPU_MACHINES if self.machine_type.startswith(f)), None)
            if family is None:
                raise BrokenRule(
                    "machineType",
                    self.machine_type,
                    f"is not a GPU machine type GKE offers; use one of the families {', '.join(GKE_GPU_MACHINES)}",
                )
            if self.gpu_type not in GKE_GPU_MACHINES[family]:
                raise BrokenRule(
                    "gpuType", self.gpu_type, f"does not fit machineType {self.machine_type}; it carries {' or '.join(GKE_GPU_MACHINES[family])}"
                )
        return self
