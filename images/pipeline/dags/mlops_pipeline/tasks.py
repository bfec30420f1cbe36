"""The DAG's Python tasks: validate_data, evaluate, promote, roll_out, and the failure callback.

Each is a thin step over the plain modules: a `Refused` becomes AirflowFailException (failed at
once, no retry: a person must act), anything else is raised as is, for Airflow's retries.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import boto3
from airflow.exceptions import AirflowFailException
from airflow.sdk import get_current_context

from mlops_pipeline import data_check, gate, notify, reproduce, rollout, versions
from mlops_pipeline.command import DEFAULT_SEED, data_uri, pinned
from mlops_pipeline.conf_schema import check_conf
from mlops_pipeline.errors import Refused
from mlops_pipeline.settings import Project, local_trainer, project

log = logging.getLogger(__name__)
T = TypeVar("T")


@contextlib.contextmanager
def failures_reported(context: Any) -> Iterator[None]:
    """Refused -> AirflowFailException; and the error put where the failure callback reads it.

    Airflow 3.0.6's task runner sets context["exception"] before the callback, but its in-process
    runner (`airflow dags test`) does not (apache/airflow#64568, fixed after 3.0.6); so the task
    sets it itself."""
    try:
        yield
    except Refused as refused:
        error = AirflowFailException(str(refused))
        context["exception"] = error
        raise error from None
    except Exception as exc:
        context["exception"] = exc
        raise


def step(function: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> T:
        with failures_reported(get_current_context()):
            return function(*args, **kwargs)

    return run


def s3(p: Project) -> Any:
    return boto3.client("s3", region_name=p.region)


@step
def validate_data(project_name: str, **context: Any) -> dict[str, Any]:
    """Check the run's data and pin its version; for a reproduction, check what it needs still exists."""
    p = project(project_name)
    params = context["params"]
    check_conf(context["dag_run"].conf or {}, params)
    log.info(
        "run %s: data interval %s to %s (logical date %s)",
        context["run_id"], context.get("data_interval_start"), context.get("data_interval_end"), context.get("logical_date"),
    )
    if params["reproduce"]:
        return reproduction(p, params)
    uri = params["data"] or data_uri(p.spec["data"], p.bucket)
    client = s3(p)
    # The data of the run's own interval: a retry or a cleared run days later reads the same bytes.
    # A run started over REST without a logical date has no interval: it reads what is there now.
    interval_end = context.get("data_interval_end")
    version_id = params["data_version"] or (data_check.version_at(client, uri, interval_end) if interval_end else None)
    checked = data_check.check_data(client, uri, version_id)
    log.info(
        "data %s: version %s, %s rows, label %s with %s classes",
        checked.uri, checked.version_id, checked.rows, checked.label, checked.classes,
    )
    return {
        "data": pinned(checked.uri, checked.version_id),
        "params": {**p.spec["params"], **params["params"]},
        "seed": DEFAULT_SEED,
        "image": None,
        "reproduces": None,
    }


def reproduction(p: Project, params: dict[str, Any]) -> dict[str, Any]:
    client = s3(p)
    found = reproduce.original(client, p.bucket, p.name, params["reproduce"])
    reproduce.check_data_version(client, found)
    checked = reproduce.check_image(lambda region: boto3.client("ecr", region_name=region), found)
    log.info(
        "reproducing %s: data %s version %s, seed %s, image %s (%s)", found.version, found.data_uri, found.data_version_id,
        found.seed, found.image, "in ECR" if checked else "not an ECR image: the pull will tell",
    )
    return {
        "data": pinned(found.data_uri, found.data_version_id),
        "params": found.params,
        "seed": found.seed,
        "image": found.image,
        "reproduces": found.version,
    }


@step
def evaluate(project_name: str, **context: Any) -> dict[str, Any] | bool:
    """Promote or not; not is a result: promote and roll_out are skipped, and the topic is told."""
    p = project(project_name)
    client = s3(p)
    metadata = versions.version_of_run(client, p.bucket, p.name, context["run_id"])
    baseline = (metadata.get("baseline") or {}).get("version")
    recorded = versions.read_metadata(client, p.bucket, p.name, baseline) if baseline else None
    decision = gate.decide(metadata, margin=p.promote_margin, baseline_recorded=recorded)
    log.info("%s %s: %s", "promote" if decision.promote else "keep the served version:", decision.version, decision.reason)
    if decision.promote:
        return decision.as_dict()
    message = notify.not_promoted(stack=p.stack, project=p.name, run_id=context["run_id"], decision=decision.as_dict())
    notify.publish(boto3.client("sns", region_name=p.region), p.topic_arn, message)
    return False


@step
def promote(project_name: str, **context: Any) -> str:
    p = project(project_name)
    decision = context["ti"].xcom_pull(task_ids="evaluate")
    done = versions.promote(s3(p), p.bucket, p.name, decision["version"], expected=decision["baseline"])
    log.info("%s", done)
    return decision["version"]


@step
def roll_out(project_name: str, **context: Any) -> list[str]:
    p = project(project_name)
    version = context["ti"].xcom_pull(task_ids="promote")
    if local_trainer():
        bases, token = [p.runtime["serving_url"]], None
    else:
        bases, token = serving_endpoints(p), serving_token(p)
    done = rollout.roll_out(bases, p.name, version, token=token)
    for line in done:
        log.info("%s", line)
    return done


def serving_endpoints(p: Project) -> list[str]:
    """The ready endpoints of the project's Service, from the Kubernetes API (in-cluster)."""
    from kubernetes import client, config

    config.load_incluster_config()
    service, namespace = p.service
    answer: Any = client.DiscoveryV1Api().list_namespaced_endpoint_slice(
        namespace, label_selector=f"{rollout.SERVICE_LABEL}={service}", _preload_content=False
    )
    return rollout.ready_endpoints(json.loads(answer.data)["items"])


def serving_token(p: Project) -> str | None:
    """A public model server's bearer token, from its Secret (the roll-out's Role may get exactly it)."""
    secret_name = p.runtime.get("serving_token_secret")
    if not secret_name:
        return None
    from kubernetes import client, config

    config.load_incluster_config()
    secret: Any = client.CoreV1Api().read_namespaced_secret(secret_name, p.workloads_namespace)
    return base64.b64decode(secret.data[rollout.TOKEN_KEY]).decode()


def on_failure(context: Any) -> None:
    """Tell the stack's topic; a failure to tell is logged, never raised over the task's own error."""
    ti = context["ti"]
    try:
        p = project(ti.dag_id)
        error = context.get("exception")
        message = notify.task_failed(
            stack=p.stack,
            project=p.name,
            bucket=p.bucket,
            task_id=ti.task_id,
            run_id=ti.run_id,
            try_number=ti.try_number,
            max_tries=ti.max_tries,
            error=f"{type(error).__name__}: {error}" if error else "(not given to the callback: see the log)",
        )
        notify.publish(boto3.client("sns", region_name=p.region), p.topic_arn, message)
    except Exception:
        log.exception("could not publish the failure of %s to the stack's topic", ti.task_id)
