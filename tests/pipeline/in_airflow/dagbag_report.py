"""Run inside .venv-airflow: import the DAG folder with DagBag and print what it holds as one JSON line.

    python dagbag_report.py '{"<label>": {<conf>}, ...}'

For each DAG: its schedule and settings, its params' schemas, each task's operator, retries,
timeouts, callbacks and downstream tasks; and for each conf given, whether Airflow accepts it
as a run's conf (the check `create_dagrun` makes when a REST call, `airflow dags trigger` or
`airflow dags test` starts a run), with the first line of the reason where it does not.
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

from airflow.exceptions import ParamValidationError
from airflow.models.dagbag import DagBag


def seconds(delta: Any) -> float | None:
    return None if delta is None else delta.total_seconds()


def task_report(task: Any) -> dict[str, Any]:
    report = {
        "operator": type(task).__name__,
        "bases": [cls.__name__ for cls in type(task).__mro__],
        "retries": task.retries,
        "retry_delay": seconds(task.retry_delay),
        "retry_exponential_backoff": task.retry_exponential_backoff,
        "max_retry_delay": seconds(task.max_retry_delay),
        "execution_timeout": seconds(task.execution_timeout),
        "on_failure_callback": [f"{cb.__module__}.{cb.__qualname__}" for cb in task.on_failure_callback or []],
        "downstream": sorted(task.downstream_task_ids),
    }
    if hasattr(task, "job_definition"):
        report |= {"job_definition": task.job_definition, "job_queue": task.job_queue, "region_name": task.region_name,
                   "aws_conn_id": task.aws_conn_id}
    return report


def conf_verdict(dag: Any, conf: dict[str, Any]) -> str | None:
    params = copy.deepcopy(dag.params)
    try:
        params.update(conf)  # as create_dagrun does: update checks each value, validate the whole
        params.validate()
    except ParamValidationError as error:
        return str(error).splitlines()[0]
    return None


def main() -> None:
    confs = json.loads(sys.argv[1])
    bag = DagBag(include_examples=False)
    dags = {}
    for dag_id, dag in sorted(bag.dags.items()):
        dags[dag_id] = {
            "schedule": dag.timetable.summary,
            "timezone": str(dag.timezone),
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "start_date": dag.start_date.isoformat() if dag.start_date else None,
            "tags": sorted(dag.tags),
            "params": {key: {"default": param.value, "schema": param.schema} for key, param in dag.params.items()},
            "tasks": {task.task_id: task_report(task) for task in dag.tasks},
            "confs": {label: conf_verdict(dag, conf) for label, conf in confs.items()},
        }
    print(json.dumps({"import_errors": bag.import_errors, "dags": dags}, default=str))


if __name__ == "__main__":
    main()
