"""Types shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from offline.engine import Recording

RunWith = Callable[..., Recording]
"""The `run_with` fixture: `run_with("prod", **{"mlops:projects": {"iris": {"serve": {"minReplicas": 1}}}})`."""

PROD_ON_AWS: dict[str, Any] = {
    "mlops:compute": {"kind": "ec2"},
    "mlops:registry": {"kind": "ecr"},
    "mlops:serving": {"cluster": "kubeconfig"},
}
"""prod as it ran before it moved to GKE: `run_with("prod", **PROD_ON_AWS)`."""

SCHEDULED: dict[str, Any] = {"mlops:pipeline": {"kind": "none"}}
"""A stack without Airflow: each project's EventBridge schedule (Batch) or CronJob starts its runs."""

GPU_SERVING: dict[str, Any] = {"mlops:projects": {"iris": {"serve": {"gpus": 1, "maxReplicas": 3}}}, "mlops:eks": {"gpuNodes": 4}}
"""prod-aws with iris's server on one GPU, up to 3 pods (and a rollout's fourth) on 4 GPU nodes:
`run_with("prod-aws", **GPU_SERVING)`."""

CPU_TRAINING: dict[str, Any] = {"mlops:compute": {"kind": "none"}, "mlops:projects": {"iris": {"train": {"gpus": 0}}}}
"""dev with `compute.kind: none`: iris trains on the serving cluster's CPUs (a GPU it could not get)."""


def iris_change(*, train: dict[str, Any] | None = None, serve: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `run_with` change of some of iris's train and serve settings: `run_with("dev", **iris_change(train={...}))`."""
    project = {**({"train": train} if train else {}), **({"serve": serve} if serve else {})}
    return {"mlops:projects": {"iris": project}}

IRIS_ALERTS = (
    "ModelLoadFailing", "ModelServerDegraded", "ModelServerDown", "ModelServerErrors", "ModelServerSaturated", "ModelServerSlow",
    "ModelStale", "TrainingFailed",
)
"""iris's alert rules in prod, each a Cloud Monitoring alert policy on GKE ($1.50 a month: one condition)."""
