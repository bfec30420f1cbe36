"""Explicit AWS providers, so every resource carries the stack's default tags."""

from __future__ import annotations

import pulumi_aws as aws

from components.config import StackConfig


def default_tags(cfg: StackConfig) -> dict[str, str]:
    """Tags every AWS resource gets: who owns it and where it came from."""
    return {
        "project": cfg.project,
        "stack": cfg.stack,
        "environment": cfg.environment.value,
        "managed-by": "pulumi",
    }


def aws_provider(name: str, cfg: StackConfig, *, region: str) -> aws.Provider:
    """An AWS provider for `region` that tags everything it creates."""
    return aws.Provider(
        name,
        region=region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(cfg)),
    )
