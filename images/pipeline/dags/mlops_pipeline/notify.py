"""What the stack's SNS topic is told: a failed task, and a version that was not promoted.

Each message says what happened and what to do, so the person on call needs nothing else
to start: the stack, the project, the task, the run, the try, the error, where the task's
log is, and how to run it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SUBJECT_LIMIT = 100  # SNS refuses a longer subject
API = "http://localhost:8080/api/v2"  # through `kubectl port-forward` (README, Start a run over REST)
ROLL_OUT = "roll_out"
AFTER_PROMOTE = (
    "LATEST names the new version (promote ran); the serving pods that did not switch keep the old one "
    "until their own poll of LATEST (MODEL_POLL_SECONDS)."
)


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def log_uri(bucket: str, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
    """Where Airflow's S3 task handler writes the log (its default log_filename_template)."""
    return f"s3://{bucket}/airflow/logs/dag_id={dag_id}/run_id={run_id}/task_id={task_id}/attempt={try_number}.log"


def subject(text: str) -> str:
    return text if len(text) <= SUBJECT_LIMIT else text[: SUBJECT_LIMIT - 3] + "..."


def task_failed(
    *, stack: str, project: str, bucket: str, task_id: str, run_id: str, try_number: int, max_tries: int, error: str
) -> Message:
    tries = f"{try_number} of {max_tries + 1} (no retry left)" if try_number > max_tries else f"{try_number} (not retried: a retry would fail the same way)"
    clear = json.dumps({"dry_run": False, "dag_run_id": run_id, "task_ids": [task_id], "only_failed": True, "include_downstream": True})
    lines = [
        f"The {project} pipeline failed in stack {stack}.",
        "",
        f"task:     {task_id}",
        f"run:      {run_id}",
        f"try:      {tries}",
        f"error:    {error}",
        f"log:      {log_uri(bucket, project, run_id, task_id, try_number)}",
        "",
        AFTER_PROMOTE if task_id == ROLL_OUT else "Nothing was promoted by this run: LATEST and the served version are as they were.",
        "Fix the cause (the error above), then re-run the failed task and what follows it:",
        f"  curl -X POST {API}/dags/{project}/clearTaskInstances -H \"Authorization: Bearer $TOKEN\" \\",
        f"    -H 'Content-Type: application/json' -d '{clear}'",
        "or start a new run (README, Start a run over REST).",
    ]
    return Message(subject(f"[{stack}] {project}: {task_id} failed"), "\n".join(lines))


def not_promoted(*, stack: str, project: str, run_id: str, decision: dict[str, Any]) -> Message:
    base = decision["baseline"]
    base_accuracy = decision["baseline_accuracy"]
    lines = [
        f"{project} {decision['version']} was trained by run {run_id} in stack {stack} and NOT promoted:",
        f"  {decision['reason']}.",
        "",
        f"new version:    {decision['version']}  accuracy {decision['accuracy']:.4f}",
        f"served version: {base or 'none'}" + (f"  accuracy {base_accuracy:.4f}" if base_accuracy is not None else ""),
        "",
        "The served version stays. The new one is stored; to serve it anyway: make rollback "
        f"PROJECT={project} VERSION={decision['version']} (README, Roll back a model).",
    ]
    return Message(subject(f"[{stack}] {project}: {decision['version']} not promoted"), "\n".join(lines))


def publish(sns: Any, topic_arn: str, message: Message) -> None:
    sns.publish(TopicArn=topic_arn, Subject=message.subject, Message=message.body)
