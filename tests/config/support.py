"""Building a StackConfig in the config tests: a dev or prod stack, or a GKE one, and its problems."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, StackConfig


def parse(environment: str = "dev", **sections: Any) -> StackConfig:
    raw: dict[str, Any] = {"environment": environment, **sections}
    if environment == "prod":
        raw.setdefault("storage", {"backupRegion": "us-west-2"})
    return StackConfig.parse(with_budget(raw), project="mlops", stack=environment, aws_region="us-east-1")


def with_budget(raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` with a monthly budget where it sets none: every stack must (monitoring.budget.monthlyUsd)."""
    monitoring = raw.get("monitoring", {})
    if not isinstance(monitoring, dict) or "monthlyUsd" in monitoring.get("budget", {}):
        return raw
    return {**raw, "monitoring": {**monitoring, "budget": {**monitoring.get("budget", {}), "monthlyUsd": 100}}}


def problems(environment: str = "dev", **sections: Any) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        parse(environment, **sections)
    return refused.value.problems


def gke_sections(**compute: Any) -> dict[str, Any]:
    """The sections of a stack on GKE with everything GKE needs, and these compute settings."""
    return {
        "compute": {"kind": "gke", **compute},
        "registry": {"kind": "artifact-registry"},
        "serving": {"cluster": "gke"},
        "gke": {"project": "mlops-dev-123456", "zones": ["us-central1-a"], "authorizedNetworks": ["198.51.100.0/24"]},
    }


def gke_stack(environment: str = "dev", **compute: Any) -> StackConfig:
    """A stack on GKE with everything GKE needs, and these compute settings."""
    return parse(environment, **gke_sections(**compute))


def iris(serve: dict[str, Any] | None = None, **train: Any) -> dict[str, Any]:
    """A stack's `projects` with the one project iris: the built-in trainer with `train`, and `serve` if given."""
    project: dict[str, Any] = {"train": {"source": "images/train", **train}}
    if serve is not None:
        project["serve"] = serve
    return {"projects": {"iris": project}}
