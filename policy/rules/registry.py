"""Rules that guard the container registry: ECR repositories keep a tag on one image and scan it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules.core import Context
from policy.rules.inputs import requires, truthy

ECR_REPOSITORY = frozenset({"aws:ecr/repository:Repository"})
IMMUTABLE_TAGS = frozenset({"IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"})


def check_ecr_immutable_tags(inputs: Mapping[str, Any], _: Context) -> str | None:
    mutability = inputs.get("imageTagMutability") or "MUTABLE"  # the AWS default
    if mutability not in IMMUTABLE_TAGS:
        return f"imageTagMutability is {mutability}; IMMUTABLE (or IMMUTABLE_WITH_EXCLUSION for a cache tag) keeps a tag on one image"
    return None


check_ecr_scan_on_push = requires(
    ("imageScanningConfiguration", "scanOnPush"), truthy,
    "imageScanningConfiguration.scanOnPush is not true; every pushed image should be scanned",
)
