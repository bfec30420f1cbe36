"""What the official Apache Airflow chart names and labels, and how big its pods are.

The release is always `airflow`, so the chart's objects have fixed names (`airflow-api-server`,
`airflow-postgresql`, ...): the NetworkPolicies, the commands in the outputs and the README can
name them. Every size is a request equal to its limit, as the platform's own pods set them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.config import cpu_millicores

RELEASE = "airflow"
"""The Helm release's name; the chart's objects are named `airflow-<component>` after it."""
SERVICE_ACCOUNT = "airflow"
"""The one ServiceAccount every Airflow component runs as (the chart creates none)."""
API_SERVICE = f"{RELEASE}-api-server"
API_PORT = 8080
"""The api-server's port: the UI, the REST API (/api/v2), /auth/token, and the task Execution API."""
TASK_LOG_PORT = 8793
"""A running task's log server, which the api-server reads until the log is in S3."""
SERVING_PORT = 8080
"""The model servers' port (components/serving.py), which the roll-out task calls."""
ADMIN_USER = "admin"
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
"""Airflow 3's default, for development: every user it knows is an admin, the passwords in a file."""
EXECUTOR = "KubernetesExecutor"
PUBLIC_API_ANNOTATION = "mlops/public-api"
"""On the api-server's Service only with `pipeline.publicApi`: the policy pack admits a LoadBalancer with it."""

# The labels the chart gives its pods (chart/templates/*: tier, component, release).
AIRFLOW_PODS = {"tier": "airflow", "release": RELEASE}
WORKER_PODS = {**AIRFLOW_PODS, "component": "worker"}
API_SERVER_PODS = {**AIRFLOW_PODS, "component": "api-server"}


@dataclass(frozen=True)
class Size:
    """One container's CPU and memory: its request and its limit."""

    cpu: str
    memory: str

    def resources(self) -> dict[str, Any]:
        return {"requests": {"cpu": self.cpu, "memory": self.memory}, "limits": {"cpu": self.cpu, "memory": self.memory}}

    @property
    def millicores(self) -> int:
        return cpu_millicores(self.cpu)


# Airflow 3.0 at rest: the scheduler and the api-server (one uvicorn worker, `[api] workers = 1`)
# each hold about 400-600 MiB; the dag-processor parses a handful of generated DAGs.
SIZES: dict[str, Size] = {
    "scheduler": Size("500m", "1Gi"),
    "apiServer": Size("500m", "1Gi"),
    "dagProcessor": Size("250m", "768Mi"),
    # A KubernetesExecutor worker: one task (a submit-and-wait, an evaluation of two small models).
    "workers": Size("500m", "1Gi"),
    "migrateDatabaseJob": Size("500m", "1Gi"),
    "createUserJob": Size("250m", "512Mi"),
}
LOG_GROOMER = Size("50m", "64Mi")
"""The sidecar that prunes the scheduler's and dag-processor's local logs every 15 minutes (a `find`)."""
ALWAYS_ON = ("scheduler", "apiServer", "dagProcessor")
"""The components that run while no DAG does: one pod each. The scheduler's and the dag-processor's
carry a log groomer sidecar too."""


def always_on_millicores() -> int:
    """The CPU Airflow's always-on pods request together: what it needs of a node while idle."""
    return sum(SIZES[c].millicores for c in ALWAYS_ON) + 2 * LOG_GROOMER.millicores
