"""`make plan --json`: the recording as JSON, each registration with its options and its inputs, secrets redacted."""

from __future__ import annotations

import json
from typing import Any

from offline.engine import Recording, Registration
from offline.values import redact


def resource_json(resource: Registration) -> dict[str, Any]:
    """One registration as `--json` and report.json show it: options, and inputs with secrets redacted."""
    return {
        "type": resource.type,
        "name": resource.name,
        "urn": resource.urn,
        "custom": resource.custom,
        "parent": resource.parent,
        "provider": resource.provider,
        "protect": resource.protect,
        "retainOnDelete": resource.retain_on_delete,
        "aliases": list(resource.aliases),
        "inputs": redact(resource.inputs),
    }


def render_json(stack: str, recording: Recording) -> str:
    document = {
        "stack": stack,
        "resources": [resource_json(r) for r in sorted(recording.resources, key=lambda r: r.urn)],
        "outputs": redact(recording.outputs),
    }
    return json.dumps(document, indent=2, sort_keys=True)
