"""Explicit AWS and Google Cloud providers, so every resource carries the stack's default tags."""

from __future__ import annotations

import pulumi_aws as aws
import pulumi_gcp as gcp

from components.config import StackConfig


# The tag whose value names the stack: the stack's budget counts the spend of what carries it,
# once it is activated as a cost allocation tag in Billing (components/monitoring/budget.py).
STACK_TAG = "stack"


def default_tags(cfg: StackConfig) -> dict[str, str]:
    """Tags every AWS resource gets: who owns it and where it came from."""
    return {
        "project": cfg.project,
        STACK_TAG: cfg.stack,
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


def gcp_provider(name: str, cfg: StackConfig, *, project: str, region: str) -> gcp.Provider:
    """A Google Cloud provider for `project` and `region` that labels everything it creates.

    The labels are the AWS default tags: Google Cloud label keys and values take lowercase
    letters, digits, `-` and `_`, which every one of them already is.
    """
    return gcp.Provider(name, project=project, region=region, default_labels=default_tags(cfg))
