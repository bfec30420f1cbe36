"""What every stack-file section shares: the `mlops:` namespace and the base model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

PROJECT = "mlops"


class Section(BaseModel):
    """Stack-file sections: camelCase keys, unknown keys rejected, immutable once parsed."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        strict=True,
    )
