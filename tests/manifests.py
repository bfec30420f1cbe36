"""The Kubernetes objects a run registered, as the plain manifests the cluster would receive."""

from __future__ import annotations

from typing import Any

from offline.engine import Recording

# The engine hands a secret value over wrapped in Pulumi's secret signature.
SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIGNATURE_KEY) == SECRET_SIGNATURE


def plain(value: Any) -> Any:
    """Secrets unwrapped, and whole numbers as ints (the engine passes every number as a float)."""
    if is_secret(value):
        return plain(value["value"])
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def manifests(recording: Recording) -> list[dict[str, Any]]:
    """Every Kubernetes object (not the provider), as apiVersion/kind/metadata/... dicts."""
    return [
        plain(r.inputs)
        for r in recording.resources
        if r.type.startswith("kubernetes:") and r.custom
    ]


def manifest(recording: Recording, kind: str, name: str) -> dict[str, Any]:
    matches = [m for m in manifests(recording) if m["kind"] == kind and m["metadata"]["name"] == name]
    if len(matches) != 1:
        raise LookupError(f"expected one {kind} named {name!r}, found {len(matches)}")
    return matches[0]


def of_kind(recording: Recording, kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests(recording) if m["kind"] == kind]


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
