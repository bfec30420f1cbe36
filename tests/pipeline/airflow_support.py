"""What the Airflow tests read from a recording: the chart's release and its values, resolved."""

from __future__ import annotations

from typing import Any

from offline.engine import Recording, Registration
from offline.values import reveal

RELEASE = "kubernetes:helm.sh/v3:Release"
AIRFLOW_COMPONENTS = ("mlops:pipeline:AirflowNamespace", "mlops:pipeline:AirflowPipeline", "mlops:pipeline:AirflowSecrets",
                      "mlops:pipeline:InClusterPostgres")


def release(recording: Recording) -> Registration:
    return recording.one(RELEASE)


def values(recording: Recording) -> dict[str, Any]:
    """The release's values as Helm gets them: every Output resolved, secrets unwrapped."""
    return reveal(release(recording).inputs)["values"]


def env(recording: Recording) -> dict[str, str]:
    return {entry["name"]: entry["value"] for entry in values(recording)["env"]}
