"""One project's DAG: validate_data >> train >> evaluate >> promote [>> roll_out where it is served]."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator, ShortCircuitOperator
from airflow.sdk import DAG, Param, chain
from airflow.sdk.definitions.param import ParamsDict

from mlops_pipeline import tasks
from mlops_pipeline.conf_schema import conf_schemas
from mlops_pipeline.operators import BatchTraining, ClusterJobTraining
from mlops_pipeline.settings import Project

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
"""Fixed, and before any stack's first run; with catchup off only the latest interval runs."""
RETRIES = 2
RETRY_DELAY = timedelta(seconds=30)
MAX_RETRY_DELAY = timedelta(minutes=10)
STEP_TIMEOUT = timedelta(minutes=15)
GPU_NODE_MINUTES = 15  # a GPU node (or Batch instance) from zero, per attempt (components/training_cronjob.py)
TRAIN_ATTEMPTS = 3  # the job's own attempts: Batch's retry strategy, the Job's backoffLimit + 1


def default_args() -> dict[str, Any]:
    return {
        "owner": "mlops",
        "retries": RETRIES,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": True,
        "max_retry_delay": MAX_RETRY_DELAY,
        "execution_timeout": STEP_TIMEOUT,
        "on_failure_callback": tasks.on_failure,
    }


def train_timeout(p: Project) -> timedelta:
    """Every attempt of the job at its deadline, a node start each, and the wait for capacity."""
    minutes = TRAIN_ATTEMPTS * (int(p.spec["timeout_minutes"]) + GPU_NODE_MINUTES) + p.runnable_timeout_minutes
    return timedelta(minutes=minutes)


def params(p: Project) -> ParamsDict:
    return ParamsDict(
        {
            key: Param(entry["default"], description=entry["description"], schema=entry["schema"])
            for key, entry in conf_schemas(p.spec["params"]).items()
        }
    )


def build_dag(p: Project) -> DAG:
    with DAG(
        dag_id=p.name,
        description=f"{p.name}: validate data, train, evaluate against the served version, promote"
        + (", roll out" if p.served else ""),
        schedule=p.spec["schedule"],  # 5-field cron, UTC
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["mlops", f"stack:{p.stack}", f"train-on:{p.train_on}"],
        params=params(p),
        default_args=default_args(),
        doc_md=__doc__,
    ) as dag:
        op_kwargs = {"project_name": p.name}
        validate = PythonOperator(task_id="validate_data", python_callable=tasks.validate_data, op_kwargs=op_kwargs)
        training = BatchTraining if p.train_on == "batch" else ClusterJobTraining
        train = training(task_id="train", mlops_project=p, execution_timeout=train_timeout(p))
        evaluate = ShortCircuitOperator(task_id="evaluate", python_callable=tasks.evaluate, op_kwargs=op_kwargs)
        promote = PythonOperator(task_id="promote", python_callable=tasks.promote, op_kwargs=op_kwargs)
        steps = [validate, train, evaluate, promote]
        if p.served:
            steps.append(PythonOperator(task_id="roll_out", python_callable=tasks.roll_out, op_kwargs=op_kwargs))
        chain(*steps)
    return dag
