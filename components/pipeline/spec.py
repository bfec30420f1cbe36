"""What the DAG image is told about the stack: the pinned versions, the static spec baked into
the image, and the runtime values handed to Airflow's pods.

Two halves, so that the DAG image's content tag changes exactly when a project does:

- the **spec** (`pipeline_spec`) is known from the stack config alone, before anything is
  built: each project's schedule, data, gate, hyperparameters, GPUs and timeout. It is written
  as `pipeline.json` into the DAG image's build, so it is part of the image's content tag;
- the **runtime** (`RUNTIME_ENV`) holds what only exists after `up` has made it (the bucket,
  the topic, the images by digest, the job definitions, the CronJobs). It reaches Airflow's
  pods as one JSON environment variable, set through the chart's `env` values.

The DAG factory (images/pipeline/dags/) reads both; the keys below are its contract.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, TypedDict

from components.config import StackConfig, TrainConfig

AIRFLOW_VERSION = "3.0.6"
"""apache/airflow's image and the test venv's apache-airflow (requirements-airflow.txt)."""
CHART_VERSION = "1.18.0"
CHART_REPOSITORY = "https://airflow.apache.org"
SPEC_FILE = "pipeline.json"
RUNTIME_ENV = "MLOPS_PIPELINE_RUNTIME"

TrainOn = Literal["batch", "cronjob"]


class ProjectSpec(TypedDict):
    schedule: str
    """5-field cron, UTC: the DAG's schedule."""
    data: str
    """`train.data` as written: builtin:<name>, s3://bucket/key, or a key in the data bucket."""
    min_accuracy: float
    params: dict[str, str | int | float | bool]
    """The hyperparameters a run may set (REST `conf.params`), with their defaults."""
    gpus: int
    timeout_minutes: int
    served: bool
    """A model server follows the project's LATEST (serve.modelVersion latest): the roll-out task calls
    it. A server pinned to a version is not rolled out to: a promotion does not change what it serves."""


class PipelineSpec(TypedDict):
    stack: str
    train_on: TrainOn
    """batch: an AWS Batch job per run (compute.kind ec2); cronjob: a Job from the project's
    suspended CronJob, on the GPU pool (gke) or the CPUs (none)."""
    promote_margin: float
    runnable_timeout_minutes: int
    projects: dict[str, ProjectSpec]


class ProjectRuntime(TypedDict, total=False):
    image: str
    """The project's training image by digest, `<repository>@sha256:<digest>`."""
    job_definition: str
    """batch: the job definition's ARN with its revision (Pulumi's, never a reproduce revision).
    A reproduce run registers a revision of `<its name>-reproduce` instead
    (components/project_names.py `reproduce_job_definition_name`), the one family besides this
    one that Airflow may register and submit (components/batch/pipeline_access.py)."""
    cronjob: str
    """cronjob: the suspended CronJob in `workloads_namespace` whose job template a run copies."""
    serving_url: str
    """The model server's in-cluster URL, http://<service>.<namespace>.svc.cluster.local:8080, where served."""
    serving_token_secret: str
    """Where the server is public: the Secret in `workloads_namespace` whose `token` key it requires
    as a bearer token; the roll-out task reads it (its Role may get exactly that Secret)."""


class PipelineRuntime(TypedDict):
    region: str
    bucket: str
    topic_arn: str
    workloads_namespace: str
    job_queue: str | None
    """batch: the stack's job queue; None where the cluster trains."""
    projects: dict[str, ProjectRuntime]


def dag_id(project: str) -> str:
    """A project's DAG: named after the project (`POST /api/v2/dags/<dag_id>/dagRuns` starts a run)."""
    return project


def train_on(cfg: StackConfig) -> TrainOn:
    return "batch" if cfg.compute.kind == "ec2" else "cronjob"


def project_spec(train: TrainConfig, *, served: bool) -> ProjectSpec:
    return ProjectSpec(
        schedule=train.schedule,
        data=train.data,
        min_accuracy=train.min_accuracy,
        params=dict(train.params),
        gpus=train.gpus,
        timeout_minutes=train.timeout_minutes,
        served=served,
    )


def pipeline_spec(cfg: StackConfig) -> PipelineSpec:
    """The stack's projects as the DAG factory takes them: one DAG per project that trains."""
    return PipelineSpec(
        stack=cfg.stack,
        train_on=train_on(cfg),
        promote_margin=cfg.pipeline.promote_margin,
        runnable_timeout_minutes=cfg.pipeline.runnable_timeout_minutes,
        projects={
            name: project_spec(project.train, served=project.serve is not None and project.serve.model_version == "latest")
            for name, project in sorted(cfg.projects.items())
            if project.train is not None
        },
    )


def spec_json(spec: PipelineSpec) -> str:
    """The spec as written into the image: sorted keys, so the same stack gives the same bytes."""
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"


def write_spec(spec: PipelineSpec, folder: Path) -> Path:
    """Write `pipeline.json` into `folder` (made if missing), only when its bytes change."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SPEC_FILE
    text = spec_json(spec)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    return path


def runtime_json(runtime: dict[str, Any]) -> str:
    return json.dumps(runtime, sort_keys=True, separators=(",", ":"))
