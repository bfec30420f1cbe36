"""What train creates on the cluster (compute.kind gke or none), as plain data: a Job copied from the
project's suspended CronJob, as `kubectl create job --from=cronjob/...` would, with the run's
trainer command, and for a reproduce run the old image.

The CronJob (components/training_cronjob.py) is the one place the pod is defined: its security
contexts, identity, GPUs, deadlines and pod failure policy come along unchanged. The Job's name
is fixed per run and try, so a task that runs again adopts the Job instead of starting another.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from mlops_pipeline.batch import with_image_env

CONTAINER = "train"  # components/training_cronjob.py CONTAINER
NAME_LIMIT = 63  # a Job's name becomes its pods' job-name label: at most 63 characters
RUN_ID_ANNOTATION = "mlops/airflow-run-id"
TRY_ANNOTATION = "mlops/airflow-try-number"


def job_name(cronjob: str, run_id: str, try_number: int) -> str:
    """`<cronjob>-<12 hex of the run id>-t<try>`, within a label's 63 characters."""
    suffix = f"-{hashlib.sha256(run_id.encode()).hexdigest()[:12]}-t{try_number}"
    return cronjob[: NAME_LIMIT - len(suffix)] + suffix


def job_manifest(cronjob: dict[str, Any], *, name: str, args: list[str], run_id: str, try_number: int, image: str | None) -> dict[str, Any]:
    """A batch/v1 Job from the CronJob's jobTemplate: `args` for the trainer, `image` for a reproduction."""
    template = copy.deepcopy(cronjob["spec"]["jobTemplate"])
    metadata = template.get("metadata", {})
    spec = template["spec"]
    [container] = [c for c in spec["template"]["spec"]["containers"] if c["name"] == CONTAINER]
    container["args"] = list(args)
    if image is not None:
        container["image"] = image
        container["env"] = with_image_env(container.get("env", []), image)
    owner = cronjob["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": owner["namespace"],
            "labels": dict(metadata.get("labels", {})),
            "annotations": {**metadata.get("annotations", {}), RUN_ID_ANNOTATION: run_id, TRY_ANNOTATION: str(try_number)},
            # Owned by the CronJob, as kubectl's Jobs are: its history limits clean them up.
            "ownerReferences": [
                {"apiVersion": "batch/v1", "kind": "CronJob", "name": owner["name"], "uid": owner.get("uid", ""), "controller": True}
            ],
        },
        "spec": spec,
    }


def outcome(job: dict[str, Any]) -> tuple[str, str] | None:
    """("Complete" | "Failed", message) once the Job has finished; None while it runs."""
    for condition in job.get("status", {}).get("conditions") or []:
        if condition.get("type") in {"Complete", "Failed"} and condition.get("status") == "True":
            return condition["type"], f"{condition.get('reason', '')}: {condition.get('message', '')}".strip(": ")
    return None


def exit_code(pod: dict[str, Any]) -> int | None:
    """The trainer container's exit code in a finished pod."""
    for status in pod.get("status", {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated")
        if status.get("name") == CONTAINER and terminated:
            return int(terminated["exitCode"])
    return None


def stuck(pod: dict[str, Any]) -> str | None:
    """Why a pod cannot start in a way no wait fixes: its image can't be pulled (keepImages removed it?)."""
    for status in pod.get("status", {}).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in {"ErrImagePull", "ImagePullBackOff", "InvalidImageName"}:
            return f"{waiting['reason']}: {waiting.get('message', status.get('image', ''))}"
    return None
