"""What train submits to AWS Batch (compute.kind ec2), as plain data: the submission, and for a
reproduce run the job definition revision that runs the old image.

Batch's container overrides can change the command and the environment, not the image. So a
reproduce run registers a revision, in a family of its own (`<family>-reproduce`, never the
one Pulumi manages), that copies the project's definition with the old image, and submits on
it. An ACTIVE revision that already runs that image is used again, so retries and repeated
reproductions of one version register nothing new.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from mlops_pipeline.errors import Refused

IMAGE_ENV = "MLOPS_TRAINING_IMAGE"  # the trainer records it as the image it ran
REPRODUCE_SUFFIX = "-reproduce"
JOB_NAME_LIMIT = 128
# What register_job_definition takes again from a described definition, beside its name and container.
COPIED = ("type", "parameters", "retryStrategy", "timeout", "platformCapabilities", "propagateTags", "tags")


def job_name(project: str, run_id: str, try_number: int) -> str:
    """`<project>-<run id as Batch allows it>-<digest>-t<try>`: one per run and try, and readable."""
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:8]
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", run_id).strip("-")
    room = JOB_NAME_LIMIT - len(project) - len(digest) - len(f"--t{try_number}") - 1
    return f"{project}-{readable[:room].rstrip('-')}-{digest}-t{try_number}"


def submission(*, name: str, job_definition: str, job_queue: str, command: list[str]) -> dict[str, Any]:
    """submit_job's arguments: the run's full trainer command over the definition's."""
    return {
        "jobName": name,
        "jobQueue": job_queue,
        "jobDefinition": job_definition,
        "containerOverrides": {"command": command},
    }


def family(arn: str) -> str:
    """arn:aws:batch:<region>:<account>:job-definition/<family>:<revision> -> <family>."""
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def reproduce_definition(described: dict[str, Any], image: str) -> dict[str, Any]:
    """register_job_definition's arguments: `described` (a describe_job_definitions entry) on `image`."""
    container = dict(described["containerProperties"])
    container["image"] = image
    container["environment"] = with_image_env(container.get("environment", []), image)
    copied = {key: described[key] for key in COPIED if key in described}
    return {"jobDefinitionName": family(described["jobDefinitionArn"]) + REPRODUCE_SUFFIX, **copied, "containerProperties": container}


def with_image_env(env: list[dict[str, Any]], image: str) -> list[dict[str, Any]]:
    """`env` with MLOPS_TRAINING_IMAGE naming `image`, in its place (or last, where it had none)."""
    entry = {"name": IMAGE_ENV, "value": image}
    replaced = [entry if item["name"] == IMAGE_ENV else item for item in env]
    return replaced if entry in replaced else [*replaced, entry]


def reusable(revisions: list[dict[str, Any]], wanted: dict[str, Any]) -> str | None:
    """The ARN of an ACTIVE revision that already is `wanted`, if any."""
    for revision in revisions:
        if revision.get("status") == "ACTIVE" and revision.get("containerProperties") == wanted["containerProperties"]:
            return revision["jobDefinitionArn"]
    return None


def definition_for(batch: Any, arn: str, image: str | None) -> str:
    """The job definition a run submits on: Pulumi's, or for a reproduce run a revision on the old image."""
    if image is None:
        return arn
    [described] = batch.describe_job_definitions(jobDefinitions=[arn])["jobDefinitions"] or [None]
    if described is None:
        raise Refused(f"the project's job definition {arn} does not exist: run `pulumi up`")
    wanted = reproduce_definition(described, image)
    pages = batch.get_paginator("describe_job_definitions").paginate(jobDefinitionName=wanted["jobDefinitionName"], status="ACTIVE")
    found = reusable([d for page in pages for d in page["jobDefinitions"]], wanted)
    return found or batch.register_job_definition(**wanted)["jobDefinitionArn"]


def failure(job: dict[str, Any]) -> str:
    """Why a FAILED job failed, in Batch's words: the status reason and the last attempt's exit."""
    attempts = job.get("attempts") or [{}]
    container = attempts[-1].get("container", {}) or job.get("container", {})
    exit_code = container.get("exitCode")
    parts = [job.get("statusReason") or "no status reason"]
    if exit_code is not None:
        parts.append(f"exit code {exit_code}")
    if container.get("reason"):
        parts.append(str(container["reason"]))
    return "; ".join(parts)


def exit_code(job: dict[str, Any]) -> int | None:
    attempts = job.get("attempts") or [{}]
    container = attempts[-1].get("container", {}) or job.get("container", {})
    code = container.get("exitCode")
    return None if code is None else int(code)
