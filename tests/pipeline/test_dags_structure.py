"""The generated DAGs as Airflow's DagBag imports them, for the dev and prod stack files' specs and
a spec with two projects: one DAG per project, with the tasks, order, retries and schedule the
pipeline promises (README, The pipeline)."""

from __future__ import annotations

from typing import Any

from tests.pipeline.support import ACCOUNT, REPO, stack_spec

CALLBACK = ["mlops_pipeline.tasks.on_failure"]


def test_every_project_of_a_stack_has_a_dag_and_none_fails_to_import(dev_dags: dict[str, Any], prod_dags: dict[str, Any]) -> None:
    assert (dev_dags["import_errors"], sorted(dev_dags["dags"])) == ({}, ["digits", "iris"])
    assert (prod_dags["import_errors"], sorted(prod_dags["dags"])) == ({}, sorted(stack_spec("prod")["projects"]))


def test_a_served_project_runs_five_steps_in_order(dev_dags: dict[str, Any]) -> None:
    tasks = dev_dags["dags"]["iris"]["tasks"]
    assert {task: spec["downstream"] for task, spec in tasks.items()} == {
        "validate_data": ["train"], "train": ["evaluate"], "evaluate": ["promote"], "promote": ["roll_out"], "roll_out": [],
    }


def test_a_project_that_only_trains_has_no_roll_out(dev_dags: dict[str, Any]) -> None:
    tasks = dev_dags["dags"]["digits"]["tasks"]
    assert {task: spec["downstream"] for task, spec in tasks.items()} == {
        "validate_data": ["train"], "train": ["evaluate"], "evaluate": ["promote"], "promote": [],
    }


def test_evaluate_short_circuits_so_a_rejected_version_skips_promote_and_roll_out(dev_dags: dict[str, Any]) -> None:
    assert dev_dags["dags"]["iris"]["tasks"]["evaluate"]["operator"] == "ShortCircuitOperator"


def test_each_task_retries_twice_with_exponential_backoff_and_notifies_on_failure(dev_dags: dict[str, Any], prod_dags: dict[str, Any]) -> None:
    for dags in (dev_dags, prod_dags):
        for dag in dags["dags"].values():
            for task in dag["tasks"].values():
                assert (task["retries"], task["retry_delay"], task["retry_exponential_backoff"], task["max_retry_delay"]) == (2, 30.0, True, 600.0)
                assert task["on_failure_callback"] == CALLBACK


def test_steps_are_bounded_and_train_by_the_jobs_own_deadlines(dev_dags: dict[str, Any], prod_dags: dict[str, Any]) -> None:
    dev = dev_dags["dags"]["iris"]["tasks"]
    assert {task: spec["execution_timeout"] for task, spec in dev.items() if task != "train"} == dict.fromkeys(
        ["validate_data", "evaluate", "promote", "roll_out"], 900.0
    )
    # 3 attempts of (timeoutMinutes + 15 for a node from zero), plus runnableTimeoutMinutes: dev 60, prod 120.
    assert dev["train"]["execution_timeout"] == (3 * (60 + 15) + 30) * 60
    assert prod_dags["dags"]["iris"]["tasks"]["train"]["execution_timeout"] == (3 * (120 + 15) + 30) * 60


def test_the_schedule_is_each_projects_cron_in_utc_without_catchup(dev_dags: dict[str, Any], prod_dags: dict[str, Any]) -> None:
    dev, prod = dev_dags["dags"], prod_dags["dags"]
    assert (dev["iris"]["schedule"], dev["digits"]["schedule"], prod["iris"]["schedule"]) == ("0 3 * * *", "30 4 * * 1", "0 2 * * 1-5")
    for dag in (*dev.values(), *prod.values()):
        assert (dag["timezone"], dag["catchup"], dag["max_active_runs"], dag["start_date"]) == ("UTC", False, 1, "2026-01-01T00:00:00+00:00")


def test_tags_name_the_stack_and_where_it_trains(dev_dags: dict[str, Any], prod_dags: dict[str, Any]) -> None:
    assert dev_dags["dags"]["iris"]["tags"] == ["mlops", "stack:dev", "train-on:batch"]
    assert prod_dags["dags"]["iris"]["tags"] == ["mlops", "stack:prod", "train-on:cronjob"]


def test_on_batch_train_is_airflows_batch_operator_on_the_projects_definition_and_the_stacks_queue(dev_dags: dict[str, Any]) -> None:
    train = dev_dags["dags"]["iris"]["tasks"]["train"]
    assert (train["operator"], "BatchOperator" in train["bases"]) == ("BatchTraining", True)
    assert train["job_definition"] == f"arn:aws:batch:us-east-1:{ACCOUNT}:job-definition/mlops-dev-iris-train:7"
    assert (train["job_queue"], train["region_name"], train["aws_conn_id"]) == ("mlops-dev-training", "us-east-1", None)


def test_on_a_cluster_train_is_a_job_from_the_projects_cronjob(prod_dags: dict[str, Any]) -> None:
    train = prod_dags["dags"]["iris"]["tasks"]["train"]
    assert train["operator"] == "ClusterJobTraining"
    assert "BatchOperator" not in train["bases"]


def test_the_conf_schema_takes_the_projects_own_hyperparameters_with_their_types(dev_dags: dict[str, Any]) -> None:
    params = dev_dags["dags"]["digits"]["params"]
    assert params["params"] == {
        "default": {},
        "schema": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"C": {"type": "number"}, "max_iter": {"type": "integer"}, "solver": {"type": "string"}, "warm": {"type": "boolean"}},
        },
    }
    assert dev_dags["dags"]["iris"]["params"]["params"]["schema"]["properties"] == {}  # dev's iris sets no train.params


def test_data_version_and_reproduce_default_to_none(dev_dags: dict[str, Any]) -> None:
    params = dev_dags["dags"]["iris"]["params"]
    assert {key: entry["default"] for key, entry in params.items()} == {"data": None, "data_version": None, "params": {}, "reproduce": None}
    assert params["reproduce"]["schema"] == {"type": ["null", "string"], "pattern": "^[0-9]{8}T[0-9]{12}Z-[0-9a-f]{8}$"}


def test_no_code_of_the_program_sets_the_local_trainer_seam() -> None:
    from mlops_pipeline.settings import LOCAL_TRAINER_ENV

    sources = [REPO / "__main__.py", *(REPO / "components").rglob("*.py"), *(REPO / "stacks").glob("*.yaml")]
    assert [path for path in sources if LOCAL_TRAINER_ENV in path.read_text()] == []
