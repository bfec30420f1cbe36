"""What train would submit, checked without a cluster or Batch: the Batch submission and a reproduce
run's job definition revision (built from the definition the program registers), and the Job it
creates from the CronJob the program registers."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import kubernetes_validate
import pytest
from mlops_pipeline import batch, cluster_job

from offline.engine import Recording
from tests.batch.recorded import JOB_DEFINITION
from tests.loopback import Moto
from tests.manifests import manifest

ARN = "arn:aws:batch:us-east-1:123456789012:job-definition/mlops-dev-iris-train:7"
OLD_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-iris@sha256:" + "0" * 64
RUN_ID = "scheduled__2026-12-02T03:00:00+00:00"
COMMAND = ["--data", "builtin:iris", "--model", "iris", "--output", "s3://b/models", "--no-promote", "--run-id", RUN_ID, "--seed", "42"]


def described(run: Recording) -> dict[str, Any]:
    """The program's job definition as describe_job_definitions would answer for it."""
    inputs = run.one(JOB_DEFINITION).inputs
    keep = ("type", "tags", "retryStrategy", "propagateTags", "timeout", "platformCapabilities")
    return {**{k: inputs[k] for k in keep}, "containerProperties": json.loads(inputs["containerProperties"]),
            "jobDefinitionName": inputs["name"], "jobDefinitionArn": ARN, "revision": 7, "status": "ACTIVE"}


def test_the_submission_is_the_projects_definition_on_the_stacks_queue_with_the_runs_command() -> None:
    assert batch.submission(name="n", job_definition=ARN, job_queue="q", command=COMMAND) == {
        "jobName": "n", "jobQueue": "q", "jobDefinition": ARN, "containerOverrides": {"command": COMMAND},
    }


def test_a_batch_job_is_named_for_its_run_and_try_within_batchs_limits() -> None:
    name = batch.job_name("iris", RUN_ID, 1)
    assert name == batch.job_name("iris", RUN_ID, 1) != batch.job_name("iris", RUN_ID, 2)
    assert re.fullmatch(r"iris-scheduled__2026-12-02T03-00-00-00-00-[0-9a-f]{8}-t1", name)
    long = batch.job_name("p" * 60, "manual__" + "x" * 200, 3)
    assert len(long) <= 128 and re.fullmatch(r"[A-Za-z0-9_-]+", long) and long.endswith("-t3")


def test_a_reproduction_copies_the_definition_on_the_old_image_in_a_family_of_its_own(dev: Recording) -> None:
    original = described(dev)
    wanted = batch.reproduce_definition(original, OLD_IMAGE)
    assert wanted["jobDefinitionName"] == "mlops-dev-iris-train-reproduce"
    container = copy.deepcopy(original["containerProperties"])
    assert wanted["containerProperties"]["image"] == OLD_IMAGE != container["image"]
    env = {e["name"]: e["value"] for e in wanted["containerProperties"]["environment"]}
    assert env["MLOPS_TRAINING_IMAGE"] == OLD_IMAGE  # so its metadata names the image it ran
    # Everything else is the program's definition, unchanged: role, resources, logs, retries, timeout.
    for key in ("image", "environment"):
        del container[key]
        del wanted["containerProperties"][key]
    assert wanted["containerProperties"] == container
    assert {k: wanted[k] for k in ("type", "tags", "retryStrategy", "propagateTags", "timeout", "platformCapabilities")} == {
        k: original[k] for k in ("type", "tags", "retryStrategy", "propagateTags", "timeout", "platformCapabilities")
    }


def test_a_revision_already_on_that_image_is_used_again_and_none_is_registered_twice(moto: Moto, dev: Recording) -> None:
    client = moto.client("batch")
    original = described(dev)
    container = {**original["containerProperties"], "jobRoleArn": "arn:aws:iam::123456789012:role/job"}
    registered = client.register_job_definition(
        jobDefinitionName="mlops-dev-iris-train", type="container", containerProperties=container,
        retryStrategy={"attempts": 3}, timeout={"attemptDurationSeconds": 3600}, platformCapabilities=["EC2"], propagateTags=True,
    )["jobDefinitionArn"]
    first = batch.definition_for(client, registered, OLD_IMAGE)
    again = batch.definition_for(client, registered, OLD_IMAGE)
    assert first == again != registered and ":job-definition/mlops-dev-iris-train-reproduce:" in first
    revisions = client.describe_job_definitions(jobDefinitionName="mlops-dev-iris-train-reproduce")["jobDefinitions"]
    assert [r["containerProperties"]["image"] for r in revisions] == [OLD_IMAGE]
    assert batch.definition_for(client, registered, None) == registered  # not a reproduction: Pulumi's own


def test_a_failed_jobs_reason_names_the_status_reason_and_the_exit() -> None:
    job = {"statusReason": "Essential container in task exited", "attempts": [{"container": {"exitCode": 5}}]}
    assert batch.failure(job) == "Essential container in task exited; exit code 5"
    assert batch.exit_code(job) == 5
    cancelled = {"statusReason": "RUNNABLE for 1800 s: no capacity", "attempts": []}
    assert (batch.failure(cancelled), batch.exit_code(cancelled)) == ("RUNNABLE for 1800 s: no capacity", None)


# --- a Job from the CronJob --------------------------------------------------------------


@pytest.fixture(scope="module")
def cronjobs(prod: Recording, dev_cluster_training: Recording) -> dict[str, dict[str, Any]]:
    """The CronJob the program registers where the cluster trains: GKE's GPU pool (prod), the CPUs (dev, kind none)."""
    return {"gke": manifest(prod, "CronJob", "iris-train"), "none": manifest(dev_cluster_training, "CronJob", "iris-train")}


@pytest.mark.parametrize("kind", ["gke", "none"])
def test_the_job_is_the_cronjobs_template_with_the_runs_command(kind: str, cronjobs: dict[str, dict[str, Any]]) -> None:
    cronjob = {**cronjobs[kind], "apiVersion": "batch/v1"}
    name = cluster_job.job_name("iris-train", RUN_ID, 1)
    job = cluster_job.job_manifest(cronjob, name=name, args=COMMAND, run_id=RUN_ID, try_number=1, image=None)
    template = cronjob["spec"]["jobTemplate"]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == COMMAND
    container["args"] = template["spec"]["template"]["spec"]["containers"][0]["args"]
    assert job["spec"] == template["spec"]  # security contexts, identity, GPUs, deadlines, failure policy: the CronJob's
    assert job["metadata"] == {
        "name": name, "namespace": cronjob["metadata"]["namespace"], "labels": template["metadata"]["labels"],
        "annotations": {"mlops/airflow-run-id": RUN_ID, "mlops/airflow-try-number": "1"},
        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "iris-train", "uid": "", "controller": True}],
    }
    kubernetes_validate.validate(job, kubernetes_validate.latest_version(), strict=True)


def test_a_reproduction_job_runs_the_old_image_and_says_so(cronjobs: dict[str, dict[str, Any]]) -> None:
    cronjob = cronjobs["gke"]
    job = cluster_job.job_manifest(cronjob, name="n", args=COMMAND, run_id=RUN_ID, try_number=2, image=OLD_IMAGE)
    [container] = job["spec"]["template"]["spec"]["containers"]
    [original] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == OLD_IMAGE
    assert [e["name"] for e in container["env"]] == [e["name"] for e in original["env"]]  # in place, nothing else moved
    assert {e["name"]: e["value"] for e in container["env"]} == {**{e["name"]: e["value"] for e in original["env"]}, "MLOPS_TRAINING_IMAGE": OLD_IMAGE}


def test_a_job_is_named_for_its_run_and_try_within_a_labels_63_characters() -> None:
    name = cluster_job.job_name("iris-train", RUN_ID, 1)
    assert name == cluster_job.job_name("iris-train", RUN_ID, 1) != cluster_job.job_name("iris-train", RUN_ID, 2)
    assert re.fullmatch(r"iris-train-[0-9a-f]{12}-t1", name)
    assert len(cluster_job.job_name("a" * 63, RUN_ID, 3)) == 63


def test_a_jobs_outcome_and_its_trainers_exit_code_are_read_from_its_status() -> None:
    failed = {"status": {"conditions": [{"type": "Failed", "status": "True", "reason": "PodFailurePolicy", "message": "exit code 5"}]}}
    assert cluster_job.outcome(failed) == ("Failed", "PodFailurePolicy: exit code 5")
    assert cluster_job.outcome({"status": {"active": 1}}) is None
    pod = {"status": {"containerStatuses": [{"name": "train", "state": {"terminated": {"exitCode": 6}}}]}}
    assert cluster_job.exit_code(pod) == 6
    pulling = {"status": {"containerStatuses": [{"name": "train", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "not found"}}}]}}
    assert cluster_job.stuck(pulling) == "ImagePullBackOff: not found"
