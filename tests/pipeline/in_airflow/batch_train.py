"""Run inside .venv-airflow: execute one DAG's train task (BatchTraining, Airflow's BatchOperator)
against the AWS endpoint in the environment (moto on loopback), and print what happened as JSON.

    python batch_train.py '<project>' '{"plan": <validate_data's plan>, "run_id": ..., "try_number": ...}'

moto runs no container without a Docker engine: the job it is given fails at once, which is
enough to see what train submitted and how it fails.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import boto3
from airflow.providers.amazon.aws.hooks.batch_client import BatchClientHook

from mlops_pipeline.dag import build_dag
from mlops_pipeline.settings import projects, read_runtime, read_spec


class TaskInstance:
    """The little of a task instance train reads and writes: validate_data's plan, the try, the links."""

    def __init__(self, plan: dict[str, Any], try_number: int) -> None:
        self.plan, self.try_number, self.pushed = plan, try_number, {}

    def xcom_pull(self, task_ids: str) -> dict[str, Any]:
        assert task_ids == "validate_data", task_ids
        return self.plan

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def main() -> None:
    project_name, given = sys.argv[1], json.loads(sys.argv[2])
    hook: Any = BatchClientHook  # its polls wait 1 to 10 s at random; moto answers at once
    hook.DEFAULT_DELAY_MIN, hook.DEFAULT_DELAY_MAX = 0, 0.2
    [project] = [p for p in projects(read_spec(), read_runtime()) if p.name == project_name]
    train: Any = build_dag(project).get_task("train")
    context: dict[str, Any] = {"ti": TaskInstance(given["plan"], given["try_number"]), "run_id": given["run_id"]}
    error = None
    try:
        train.execute(context)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    batch = boto3.client("batch", region_name=project.region)
    job = batch.describe_jobs(jobs=[train.job_id])["jobs"][0] if train.job_id else None
    print(json.dumps({"error": error, "job": job, "noted": str(context.get("exception"))}, default=str))


if __name__ == "__main__":
    main()
