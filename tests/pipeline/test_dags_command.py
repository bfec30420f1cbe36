"""The trainer command a run gives the job is the program's (components/training_command.py, what the
Batch job definitions and CronJobs carry), with the run's data and parameters in place and the
pipeline's flags after. The DAG image can't import components/, so the two are held together
here, on what the program really registers."""

from __future__ import annotations

from typing import Any

from mlops_pipeline.command import DEFAULT_SEED, Run, data_uri, pinned, trainer_command

from offline.engine import Recording
from tests.batch.recorded import container
from tests.manifests import manifest
from tests.pipeline.support import stack_spec
from tests.support import CPU_TRAINING, RunWith

TUNED = {"minAccuracy": 0.95, "params": {"C": 0.5, "max_iter": 300, "solver": "lbfgs", "warm_start": True}}
"""A gate off the default and hyperparameters of every type, so the flags the program adds are all there."""


def bucket_of(command: list[str]) -> str:
    output = command[command.index("--output") + 1]
    return output.removeprefix("s3://").removesuffix("/models")


def pipeline_command(spec: Any, project: str, bucket: str, **run: Any) -> list[str]:
    """The command train plans for a run that sets nothing: the project's data and parameters."""
    project_spec = spec["projects"][project]
    planned = Run(**{"data": data_uri(project_spec["data"], bucket), "params": project_spec["params"], "seed": DEFAULT_SEED,
                     "run_id": "scheduled__2026-12-02T03:00:00+00:00", "baseline": None, **run})
    return trainer_command(project, bucket=bucket, min_accuracy=project_spec["min_accuracy"], run=planned)


PIPELINE_FLAGS = ["--no-promote", "--run-id", "scheduled__2026-12-02T03:00:00+00:00", "--seed", "42"]


def test_a_runs_command_is_the_batch_job_definitions_plus_the_pipelines_flags(dev: Recording) -> None:
    program = container(dev)["command"]
    assert pipeline_command(stack_spec("dev"), "iris", bucket_of(program)) == program + PIPELINE_FLAGS


def test_a_runs_command_is_the_cronjobs_plus_the_pipelines_flags(prod: Recording) -> None:
    program = manifest(prod, "CronJob", "iris-train")["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert pipeline_command(stack_spec("prod"), "iris", bucket_of(program)) == program + PIPELINE_FLAGS


def test_the_gate_and_every_hyperparameter_reach_the_command_as_the_program_writes_them(run_with: RunWith) -> None:
    changes = {**CPU_TRAINING, "mlops:projects": {"iris": {"train": {"gpus": 0, **TUNED}}}}
    program = manifest(run_with("dev", **changes), "CronJob", "iris-train")["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--min-accuracy" in program and "warm_start=true" in program
    assert pipeline_command(stack_spec("dev", **changes), "iris", bucket_of(program)) == program + PIPELINE_FLAGS


def test_a_run_pins_the_data_version_and_overrides_only_what_it_sets(dev: Recording) -> None:
    program = container(dev)["command"]
    bucket = bucket_of(program)
    command = pipeline_command(
        stack_spec("dev"), "iris", bucket, data=pinned(f"s3://{bucket}/datasets/iris.csv", "3HL4kq"), baseline="20261201T030000000000Z-0a1b2c3d"
    )
    expected = [*program, *PIPELINE_FLAGS, "--baseline", "20261201T030000000000Z-0a1b2c3d"]
    expected[1] = f"s3://{bucket}/datasets/iris.csv?versionId=3HL4kq"
    assert command == expected


def test_a_reproduction_names_what_it_reproduces_and_its_seed() -> None:
    run = Run(data="builtin:iris", params={"C": 1.0}, seed=7, run_id="manual__1", baseline="V1", reproduces="V1")
    assert trainer_command("iris", bucket="b", min_accuracy=0.8, run=run) == [
        "--data", "builtin:iris", "--model", "iris", "--output", "s3://b/models", "--param", "C=1.0",
        "--no-promote", "--run-id", "manual__1", "--seed", "7", "--baseline", "V1", "--reproduces", "V1",
    ]


def test_builtin_data_and_unversioned_objects_are_not_pinned() -> None:
    assert pinned("builtin:iris", "v") == "builtin:iris"
    assert pinned("s3://b/k.csv", None) == "s3://b/k.csv"
    assert pinned("s3://b/k.csv", "v") == "s3://b/k.csv?versionId=v"
