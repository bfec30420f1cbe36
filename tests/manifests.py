"""The Kubernetes objects a run registered, as the plain manifests the cluster would receive."""

from __future__ import annotations

from typing import Any

from offline.engine import Recording
from offline.values import reveal

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
"""Not a Kubernetes object: Helm makes the chart's objects on the cluster (tests/pipeline/ check its values)."""


def manifests(recording: Recording) -> list[dict[str, Any]]:
    """Every Kubernetes object (not the provider, not a Helm release), as apiVersion/kind/metadata/... dicts."""
    return [
        reveal(r.inputs)
        for r in recording.resources
        if r.type.startswith("kubernetes:") and r.custom and r.type != HELM_RELEASE
    ]


def manifest(recording: Recording, kind: str, name: str, *, namespace: str | None = None) -> dict[str, Any]:
    """The one object of this kind and name (in `namespace`, where given)."""
    matches = [m for m in of_kind(recording, kind, namespace=namespace) if m["metadata"]["name"] == name]
    if len(matches) != 1:
        raise LookupError(f"expected one {kind} named {name!r}, found {len(matches)}")
    return matches[0]


def of_kind(recording: Recording, kind: str, *, namespace: str | None = None) -> list[dict[str, Any]]:
    """The objects of this kind (in `namespace`, where given)."""
    return [
        m for m in manifests(recording)
        if m["kind"] == kind and (namespace is None or m["metadata"].get("namespace", m["metadata"]["name"]) == namespace)
    ]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a Deployment, Job or CronJob."""
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def container(workload: dict[str, Any]) -> dict[str, Any]:
    [only] = pod_spec(workload)["containers"]
    return only


def env(workload: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(workload).get("env", [])}
