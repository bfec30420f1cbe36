"""The pipeline tests' common ground: the stacks' specs, a runtime for them, and .venv-airflow.

The DAG code runs in Airflow's own venv (.venv-airflow: `make test` builds it); these tests
run in the main venv and drive that one by subprocess. Without it they fail, never skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components.config import PROJECT, SCALAR_KEYS, SECTIONS, StackConfig
from components.pipeline.spec import PipelineSpec, pipeline_spec, spec_json
from offline.engine import stack_config_with

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "images" / "pipeline" / "dags"
AIRFLOW_BIN = REPO / ".venv-airflow" / "bin"
DAGBAG_REPORT = Path(__file__).with_name("in_airflow") / "dagbag_report.py"
REST_TRIGGER = Path(__file__).with_name("in_airflow") / "rest_trigger.py"
BATCH_TRAIN = Path(__file__).with_name("in_airflow") / "batch_train.py"
CLUSTER_TRAIN = Path(__file__).with_name("in_airflow") / "cluster_train.py"
ACCOUNT = "123456789012"
DIGEST = "sha256:" + "ab" * 32

if str(DAGS) not in sys.path:  # the plain modules, as the main venv's tests import them
    sys.path.append(str(DAGS))


def airflow_bin(name: str) -> Path:
    path = AIRFLOW_BIN / name
    if not path.exists():
        pytest.fail(f"{path} missing: `make test` creates .venv-airflow (make .venv-airflow/.installed)")
    return path


def stack_cfg(stack: str, **changes: Any) -> StackConfig:
    """A stack file's config, some settings changed as `run_with` changes them, through the config model."""
    config = stack_config_with(stack, changes)
    raw: dict[str, Any] = {key: config[f"{PROJECT}:{key}"] for key in SCALAR_KEYS if f"{PROJECT}:{key}" in config}
    raw |= {section: json.loads(config[f"{PROJECT}:{section}"]) for section in SECTIONS if f"{PROJECT}:{section}" in config}
    return StackConfig.parse(raw, project=PROJECT, stack=stack, aws_region=config.get("aws:region"))


def stack_spec(stack: str, **changes: Any) -> PipelineSpec:
    """The spec the program bakes into the stack's DAG image, from its stack file (with `changes`)."""
    return pipeline_spec(stack_cfg(stack, **changes))


def two_projects(spec: PipelineSpec) -> PipelineSpec:
    """`spec` with a second project that trains only (no server) on a bucket key, with hyperparameters."""
    iris = spec["projects"]["iris"]
    digits = {**iris, "data": "datasets/digits.csv", "schedule": "30 4 * * 1", "served": False,
              "params": {"C": 0.5, "max_iter": 200, "warm": True, "solver": "lbfgs"}, "min_accuracy": 0.95}
    return PipelineSpec(**{**spec, "projects": {"iris": iris, "digits": digits}})  # type: ignore[typeddict-item]


def runtime_for(spec: PipelineSpec, *, bucket: str = "mlops-test-data", serving_url: str | None = None,
                image: str | None = None) -> dict[str, Any]:
    """A runtime as the chart would set it for `spec`'s projects (components/pipeline/spec.py's keys)."""
    stack = spec["stack"]
    projects: dict[str, Any] = {}
    for name, project in spec["projects"].items():
        entry: dict[str, Any] = {"image": image or f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/mlops-{stack}-{name}@{DIGEST}"}
        if spec["train_on"] == "batch":
            entry["job_definition"] = f"arn:aws:batch:us-east-1:{ACCOUNT}:job-definition/mlops-{stack}-{name}-train:7"
        else:
            entry["cronjob"] = f"{name}-train"
        if project["served"]:
            entry["serving_url"] = serving_url or f"http://{name}-server.mlops-{stack}.svc:8080"
        projects[name] = entry
    return {
        "region": "us-east-1",
        "bucket": bucket,
        "topic_arn": f"arn:aws:sns:us-east-1:{ACCOUNT}:mlops-{stack}-notifications",
        "workloads_namespace": f"mlops-{stack}",
        "job_queue": f"mlops-{stack}-training" if spec["train_on"] == "batch" else None,
        "projects": projects,
    }


def airflow_env(home: Path, spec_file: Path, runtime: dict[str, Any], **extra: str) -> dict[str, str]:
    """An environment for Airflow in `home`: sqlite, no examples, the DAG folder, the stack's spec and runtime."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_", "MLOPS_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        MLOPS_PIPELINE_SPEC=str(spec_file),
        MLOPS_PIPELINE_RUNTIME=json.dumps(runtime),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def write_spec(spec: PipelineSpec, path: Path) -> Path:
    path.write_text(spec_json(spec))
    return path


def dagbag_report(home: Path, spec: PipelineSpec, runtime: dict[str, Any], confs: dict[str, Any] | None = None) -> dict[str, Any]:
    """What DagBag makes of the DAG folder for `spec` (dagbag_report.py, in .venv-airflow), as JSON."""
    home.mkdir(parents=True, exist_ok=True)
    spec_file = write_spec(spec, home / "pipeline.json")
    env = airflow_env(home, spec_file, runtime)
    result = subprocess.run(
        [str(airflow_bin("python")), str(DAGBAG_REPORT), json.dumps(confs or {})],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
