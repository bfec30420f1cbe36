"""Rules that guard the pods: every container of a serving or training workload is hardened
("restricted"), has CPU and memory limits and runs an image pinned by digest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from policy.rules.core import Context, ResourceCheck
from policy.rules.inputs import get, items

# The kinds that carry a pod spec (pod_spec finds it by shape).
WORKLOAD = frozenset({
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Pod",
})
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")

ContainerProblem = Callable[[Mapping[str, Any], Mapping[str, Any]], "str | None"]
"""(container, pod spec) -> None when the container is compliant, else what is wrong."""


def pod_spec(inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod spec of whichever workload kind `inputs` is (found by shape, not by type)."""
    for path in (("spec", "jobTemplate", "spec", "template", "spec"), ("spec", "template", "spec")):
        spec = get(inputs, *path)
        if isinstance(spec, Mapping):
            return spec
    spec = get(inputs, "spec")
    return spec if isinstance(spec, Mapping) and "containers" in spec else {}


def _containers(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    every = items(spec.get("initContainers")) + items(spec.get("containers"))
    return [c for c in every if isinstance(c, Mapping)]


def per_container(problem: ContainerProblem) -> ResourceCheck:
    """A check that runs `problem(container, pod_spec)` on every (init) container."""

    def check(inputs: Mapping[str, Any], _: Context) -> str | None:
        spec = pod_spec(inputs)
        for container in _containers(spec):
            found = problem(container, spec)
            if found:
                return f"container {container.get('name', '?')}: {found}"
        return None

    return check


def _effective(container: Mapping[str, Any], spec: Mapping[str, Any], key: str) -> Any:
    """A security context setting: the container's own, else the pod's."""
    own = get(container, "securityContext", key)
    return own if own is not None else get(spec, "securityContext", key)


def _run_as_non_root(container: Mapping[str, Any], spec: Mapping[str, Any]) -> str | None:
    if _effective(container, spec, "runAsNonRoot") is not True:
        return "runAsNonRoot is not true (pod or container securityContext)"
    return None


def _no_privilege_escalation(container: Mapping[str, Any], _: Mapping[str, Any]) -> str | None:
    if get(container, "securityContext", "allowPrivilegeEscalation") is not False:
        return "securityContext.allowPrivilegeEscalation is not false"
    return None


def _read_only_root(container: Mapping[str, Any], _: Mapping[str, Any]) -> str | None:
    if get(container, "securityContext", "readOnlyRootFilesystem") is not True:
        return "securityContext.readOnlyRootFilesystem is not true (mount an emptyDir where it writes)"
    return None


def _drop_all(container: Mapping[str, Any], _: Mapping[str, Any]) -> str | None:
    if "ALL" not in items(get(container, "securityContext", "capabilities", "drop")):
        return "securityContext.capabilities.drop does not include ALL"
    return None


def _seccomp(container: Mapping[str, Any], spec: Mapping[str, Any]) -> str | None:
    profile = get(_effective(container, spec, "seccompProfile"), "type")
    if profile not in ("RuntimeDefault", "Localhost"):
        return f"seccompProfile.type is {profile!r}; set RuntimeDefault (pod or container)"
    return None


def _limits(container: Mapping[str, Any], _: Mapping[str, Any]) -> str | None:
    limits = get(container, "resources", "limits") or {}
    missing = [r for r in ("cpu", "memory") if not (isinstance(limits, Mapping) and limits.get(r))]
    if missing:
        return f"resources.limits has no {' or '.join(missing)}"
    return None


def _pinned(container: Mapping[str, Any], _: Mapping[str, Any]) -> str | None:
    image = container.get("image")
    if not (isinstance(image, str) and DIGEST.search(image)):
        return f"image {image!r} is not pinned by digest (<repository>@sha256:<digest>)"
    return None


check_k8s_run_as_non_root = per_container(_run_as_non_root)
check_k8s_no_privilege_escalation = per_container(_no_privilege_escalation)
check_k8s_read_only_root_filesystem = per_container(_read_only_root)
check_k8s_drop_all_capabilities = per_container(_drop_all)
check_k8s_seccomp_runtime_default = per_container(_seccomp)
check_k8s_resource_limits = per_container(_limits)
check_k8s_image_digest = per_container(_pinned)


def check_k8s_no_privileged_or_host(inputs: Mapping[str, Any], _: Context) -> str | None:
    spec = pod_spec(inputs)
    shared = [key for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key) is True]
    if shared:
        return f"the pod shares the node's namespaces: {', '.join(shared)}"
    for container in _containers(spec):
        if get(container, "securityContext", "privileged") is True:
            return f"container {container.get('name', '?')} is privileged"
    return None
