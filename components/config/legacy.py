"""The single-model keys that came before `projects`: found, they give one line saying how to move."""

from __future__ import annotations

from typing import Any

from components.config.section import PROJECT

# What `serving` held besides `cluster`, and the whole `training` section, before projects.
OLD_SERVING_KEYS = ("minReplicas", "maxReplicas", "targetCpuUtilization", "gpus", "model", "modelVersion", "cpu", "memory")
OLD_SECTIONS = ("training",)


def without_old_keys(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`raw` without the single-model keys, and the one line that names those it had (if any)."""
    found: list[str] = []
    cleaned = dict(raw)
    serving = raw.get("serving")
    if isinstance(serving, dict):
        found += [f"serving.{key}" for key in serving if key in OLD_SERVING_KEYS]
        cleaned["serving"] = {key: value for key, value in serving.items() if key not in OLD_SERVING_KEYS}
    for section in OLD_SECTIONS:
        if section in cleaned:
            value = cleaned.pop(section)
            found += [f"{section}.{key}" for key in value] if isinstance(value, dict) and value else [section]
    return cleaned, [moved_line(found)] if found else []


def moved_line(keys: list[str]) -> str:
    return (
        f"{PROJECT}:{', '.join(keys)}: moved under {PROJECT}:projects.<name>.serve / .train (README \"Projects\"); "
        f"e.g. {PROJECT}:projects: {{iris: {{train: {{source: images/train, ...}}, serve: {{minReplicas: 1, ...}}}}}}"
    )
