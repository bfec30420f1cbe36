"""What a DAG is built from: the stack's spec (pipeline.json, baked into the image) and its runtime
(the MLOPS_PIPELINE_RUNTIME variable on Airflow's pods). Both are components/pipeline/spec.py's
contract, read here as plain dicts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

SPEC_ENV = "MLOPS_PIPELINE_SPEC"
"""Overrides where pipeline.json is read from (tests); the image has it beside the DAG file."""
RUNTIME_ENV = "MLOPS_PIPELINE_RUNTIME"
LOCAL_TRAINER_ENV = "MLOPS_PIPELINE_LOCAL_TRAINER"
"""The test seam: a command (e.g. `python images/train/train.py`) that the train task runs as a
subprocess instead of a Batch job or a Job, and roll_out then calls serving_url directly.
Nothing in the stack sets it."""
DEFAULT_SPEC = Path(__file__).resolve().parents[1] / "mlops" / "pipeline.json"


@dataclass(frozen=True)
class Project:
    """One project's DAG inputs: its spec, and what the stack made for it."""

    name: str
    stack: str
    train_on: str  # batch | cronjob
    promote_margin: float
    runnable_timeout_minutes: int
    spec: dict[str, Any]  # ProjectSpec: schedule, data, min_accuracy, params, gpus, timeout_minutes, served
    runtime: dict[str, Any]  # ProjectRuntime: image, job_definition | cronjob, serving_url
    region: str
    bucket: str
    topic_arn: str
    workloads_namespace: str
    job_queue: str | None

    @property
    def served(self) -> bool:
        return bool(self.spec["served"])

    @property
    def image(self) -> str:
        return str(self.runtime["image"])

    @property
    def service(self) -> tuple[str, str]:
        """The model server's Service (name, namespace), from http://<service>.<namespace>.svc:8080."""
        host = urlparse(self.runtime["serving_url"]).hostname or ""
        name, _, rest = host.partition(".")
        return name, rest.partition(".")[0] or self.workloads_namespace


def read_spec(path: Path | None = None) -> dict[str, Any]:
    return json.loads((path or Path(os.environ.get(SPEC_ENV) or DEFAULT_SPEC)).read_text())


def read_runtime(env: dict[str, str] | None = None) -> dict[str, Any]:
    text = (env if env is not None else os.environ).get(RUNTIME_ENV)
    if not text:
        raise RuntimeError(f"{RUNTIME_ENV} is not set: the chart gives it to every Airflow pod (components/pipeline/spec.py)")
    return json.loads(text)


def projects(spec: dict[str, Any], runtime: dict[str, Any]) -> list[Project]:
    """Every project of the spec, with its runtime; a project the runtime lacks is a deployment error."""
    missing = sorted(set(spec["projects"]) - set(runtime["projects"]))
    if missing:
        raise RuntimeError(f"{RUNTIME_ENV} has no entry for project(s) {', '.join(missing)} of pipeline.json")
    return [
        Project(
            name=name,
            stack=spec["stack"],
            train_on=spec["train_on"],
            promote_margin=float(spec["promote_margin"]),
            runnable_timeout_minutes=int(spec["runnable_timeout_minutes"]),
            spec=project_spec,
            runtime=runtime["projects"][name],
            region=runtime["region"],
            bucket=runtime["bucket"],
            topic_arn=runtime["topic_arn"],
            workloads_namespace=runtime["workloads_namespace"],
            job_queue=runtime.get("job_queue"),
        )
        for name, project_spec in sorted(spec["projects"].items())
    ]


def project(name: str) -> Project:
    """The project a running task belongs to, read again in the task's own process."""
    [found] = [p for p in projects(read_spec(), read_runtime()) if p.name == name]
    return found


def local_trainer() -> str | None:
    return os.environ.get(LOCAL_TRAINER_ENV) or None
