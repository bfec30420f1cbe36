"""The `registry` section: where images are pushed and how many each repository keeps."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from components.config.section import Section


class RegistryConfig(Section):
    kind: Literal["ecr", "artifact-registry"] = Field(
        default="ecr", description="Where images are pushed: ecr, or artifact-registry (with GKE)."
    )
    keep_images: int = Field(
        default=30, ge=1, le=1000, description="Keep the newest N images per repository."
    )
