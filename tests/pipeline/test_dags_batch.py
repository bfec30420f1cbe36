"""train on AWS Batch through Airflow's BatchOperator, against Batch on loopback (moto): what it submits
(the job's name, queue, definition and command; for a reproduction, the revision on the old image),
and that a failed job fails the task at once with the job's reason. moto has no Docker engine to
run the container, so every job fails; that is the path checked here (the success path is the
local seam's, in test_pipeline_e2e.py)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from mlops_pipeline import batch
from mlops_pipeline.command import Run
from mlops_pipeline.settings import projects
from mlops_pipeline.training import command_for

from tests.loopback import Moto
from tests.pipeline.support import BATCH_TRAIN, DAGS, airflow_bin, airflow_env, runtime_for, stack_spec, write_spec

RUN_ID = "scheduled__2026-12-02T03:00:00+00:00"
OLD_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-iris@sha256:" + "0" * 64
PLAN = {"data": "builtin:iris", "params": {}, "seed": 42, "image": None, "reproduces": None}


@pytest.fixture(scope="module")
def world(moto: Moto, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """dev's iris on a queue and a job definition in moto's Batch, and the environment train runs in."""
    bucket, tmp_path = moto.versioned_bucket("batch-", "train"), tmp_path_factory.mktemp("batch")
    client = moto.client("batch")
    role = moto.client("iam").create_role(RoleName=f"{bucket}-batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    environment = client.create_compute_environment(computeEnvironmentName=f"{bucket}-ce", type="UNMANAGED", state="ENABLED", serviceRole=role)
    queue = client.create_job_queue(jobQueueName=f"{bucket}-queue", state="ENABLED", priority=1,
                                    computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}])
    definition = client.register_job_definition(
        jobDefinitionName=f"{bucket}-iris-train", type="container", platformCapabilities=["EC2"],
        containerProperties={"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-iris@sha256:" + "1" * 64,
                             "command": ["--data", "builtin:iris"], "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "512"}]},
    )["jobDefinitionArn"]
    spec = stack_spec("dev")
    runtime = runtime_for(spec, bucket=bucket) | {"job_queue": queue["jobQueueName"]}
    runtime["projects"]["iris"]["job_definition"] = definition
    aws = {k: v for k, v in moto.env().items() if k.startswith("AWS_")}
    env = airflow_env(tmp_path, write_spec(spec, tmp_path / "pipeline.json"), runtime, **aws, PYTHONPATH=str(DAGS))
    return {"env": env, "definition": definition, "queue": queue["jobQueueArn"], "project": projects(dict(spec), runtime)[0]}


def train(world: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    given = {"plan": plan, "run_id": RUN_ID, "try_number": 1}
    result = subprocess.run([str(airflow_bin("python")), str(BATCH_TRAIN), "iris", json.dumps(given)],
                            env=world["env"], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def submitted(world: dict[str, Any]) -> dict[str, Any]:
    return train(world, PLAN)


def test_train_submits_the_runs_command_on_the_projects_definition_and_the_stacks_queue(world: dict[str, Any], submitted: dict[str, Any]) -> None:
    job = submitted["job"]
    command = command_for(world["project"], Run(data="builtin:iris", params={}, seed=42, run_id=RUN_ID, baseline=None))
    assert (job["jobName"], job["jobQueue"], job["jobDefinition"]) == (batch.job_name("iris", RUN_ID, 1), world["queue"], world["definition"])
    assert job["container"]["command"] == command


def test_a_failed_job_fails_train_at_once_with_the_jobs_reason(submitted: dict[str, Any]) -> None:
    done, job = submitted, submitted["job"]
    assert job["status"] == "FAILED"
    assert done["error"].startswith(f"AirflowFailException: Batch job {job['jobId']} ({job['jobName']}) failed: ")
    assert done["noted"] == done["error"].split(": ", 1)[1]  # where the failure callback reads it


def test_a_reproduction_submits_on_a_revision_of_the_definition_with_the_old_image(moto: Moto, world: dict[str, Any]) -> None:
    done = train(world, {**PLAN, "image": OLD_IMAGE, "reproduces": "20261201T030000000000Z-0a1b2c3d"})
    job = done["job"]
    assert job["jobDefinition"].endswith(f":job-definition/{batch.family(world['definition'])}-reproduce:1")
    [revision] = moto.client("batch").describe_job_definitions(jobDefinitions=[job["jobDefinition"]])["jobDefinitions"]
    assert revision["containerProperties"]["image"] == OLD_IMAGE
    assert job["container"]["command"][-2:] == ["--reproduces", "20261201T030000000000Z-0a1b2c3d"]
