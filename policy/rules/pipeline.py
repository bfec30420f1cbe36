"""The rule on Airflow's Helm release: the chart's objects are Helm's, so its values are what the pack sees.

A `helm.v3.Release` is one resource to the engine (and to CrossGuard): the Deployments, Jobs and
task pods it makes never pass the workload rules of `pods`. What decides their security is in the
release's values, and `check_airflow_release` holds them to it:

- every component the chart runs (the scheduler, api-server, dag-processor, task pods, the
  migration and create-user Jobs, and the triggerer unless disabled) has its own "restricted"
  security contexts: a non-root uid, RuntimeDefault (or Localhost) seccomp, no privilege
  escalation, every capability dropped; and CPU and memory limits. Its own, because the chart
  falls back to `securityContexts.containers` (plural), not the documented global `container`;
- the KubernetesExecutor, so no worker runs while idle;
- a real auth manager: `config.core.auth_manager` set, and not Airflow 3's SimpleAuthManager
  (its default: every user an admin, passwords in a generated file);
- the api-server's Service a LoadBalancer only where the stack asks for it
  (`pipeline.publicApi`, which marks the Service with PUBLIC_API_ANNOTATION).

No chart container needs an exemption from "restricted". EXEMPTIONS names the pack's stricter
workload rules the chart's containers do not meet, each with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules.core import Context
from policy.rules.inputs import get, items

RELEASE = frozenset({"kubernetes:helm.sh/v3:Release"})
AIRFLOW_CHART = "airflow"
KUBERNETES_EXECUTOR = "KubernetesExecutor"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
PUBLIC_API_ANNOTATION = "mlops/public-api"
"""Set to "true" on the api-server's Service by the program only with `mlops:pipeline.publicApi: true`."""
COMPONENTS = ("scheduler", "apiServer", "dagProcessor", "workers", "migrateDatabaseJob", "createUserJob")
"""What the chart runs with the KubernetesExecutor (`workers` is the task pods' template); the
triggerer too unless disabled."""
EXEMPTIONS: Mapping[str, str] = {
    "k8s-read-only-root-filesystem": (
        "not part of \"restricted\": Airflow's processes write pid files and a generated webserver_config.py "
        "under AIRFLOW_HOME, temp files under /tmp and ~/.cache, and the chart mounts no emptyDir there; the "
        "bundled Postgres (dev) writes its configuration and socket under /opt/bitnami/postgresql"
    ),
    "k8s-image-digest": (
        "the task pods run the DAG image by its content tag (the chart's worker_container_tag, which it sets "
        "from images.airflow.tag), which the registry keeps immutable; the components run it by digest. The "
        "bundled Postgres (dev only) is a bitnamilegacy tag no registry could be asked for a digest of here"
    ),
}
"""The pack's workload rules (policy/rules/pods.py) the chart's containers do not meet, with why."""


def _restricted(section: Mapping[str, Any]) -> list[str]:
    """What is missing from one component's own "restricted" security contexts and its limits."""
    pod = get(section, "securityContexts", "pod") or {}
    container = get(section, "securityContexts", "container") or {}
    problems = []
    if pod.get("runAsNonRoot") is not True or pod.get("runAsUser") in (None, 0):
        problems.append("securityContexts.pod needs runAsNonRoot true and a non-zero runAsUser")
    seccomp = get(pod, "seccompProfile", "type") or get(container, "seccompProfile", "type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        problems.append(f"seccompProfile.type is {seccomp!r}; set RuntimeDefault")
    if container.get("allowPrivilegeEscalation") is not False:
        problems.append("securityContexts.container.allowPrivilegeEscalation is not false")
    if "ALL" not in items(get(container, "capabilities", "drop")):
        problems.append("securityContexts.container.capabilities.drop does not include ALL")
    limits = get(section, "resources", "limits") or {}
    if not (isinstance(limits, Mapping) and limits.get("cpu") and limits.get("memory")):
        problems.append("resources.limits needs cpu and memory")
    return problems


def _components(values: Mapping[str, Any]) -> list[str]:
    """The components the chart runs with these values."""
    triggerer = get(values, "triggerer", "enabled") is not False
    return [*COMPONENTS, *(("triggerer",) if triggerer else ())]


def _api_server_exposed(values: Mapping[str, Any]) -> str | None:
    service = get(values, "apiServer", "service") or {}
    if service.get("type") != "LoadBalancer":
        return None
    if str((service.get("annotations") or {}).get(PUBLIC_API_ANNOTATION, "")).lower() == "true":
        return None
    return "apiServer.service is a LoadBalancer: keep it ClusterIP, or set mlops:pipeline.publicApi: true to expose it"


def check_airflow_release(inputs: Mapping[str, Any], _: Context) -> str | None:
    """The Airflow chart's values keep its pods restricted, its executor, its login and its API server private."""
    if inputs.get("chart") != AIRFLOW_CHART:
        return None
    values = get(inputs, "values") or {}
    problems = []
    if values.get("executor") != KUBERNETES_EXECUTOR:
        problems.append(f"executor is {values.get('executor')!r}; set {KUBERNETES_EXECUTOR}")
    auth_manager = get(values, "config", "core", "auth_manager")
    if not auth_manager or auth_manager == SIMPLE_AUTH_MANAGER:
        problems.append("config.core.auth_manager is Airflow 3's SimpleAuthManager (its default); set the FAB auth manager")
    for name in _components(values):
        problems += [f"{name}: {problem}" for problem in _restricted(get(values, name) or {})]
    exposed = _api_server_exposed(values)
    if exposed:
        problems.append(exposed)
    return "; ".join(problems) or None
