"""The trainer's command line for one run: the program's (components/training_command.py), the run's
data and parameters in place of the project's, and the pipeline's flags after.

The program gives each Batch job definition and CronJob

    --data URI --model NAME --output s3://<bucket>/models [--min-accuracy X] [--param NAME=VALUE ...]

and a run adds `--no-promote --run-id <run id> --seed N [--baseline VERSION] [--reproduces VERSION]`.
tests/pipeline/test_dags_command.py holds the two to the same output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

DEFAULT_MIN_ACCURACY = 0.8  # the trainer's own default, which the program leaves off the command line
DEFAULT_SEED = 42  # the contract's default seed: a run that names none trains as a plain `train.py` would


def data_uri(data: str, bucket: str) -> str:
    """`train.data` as --data: builtin: and s3:// as given, else a key in the data bucket."""
    if data.startswith(("builtin:", "s3://")):
        return data
    return f"s3://{bucket}/{data.lstrip('/')}"


def pinned(uri: str, version_id: str | None) -> str:
    """An s3:// URI that names one version of its object (`?versionId=`), as the trainer reads it."""
    return f"{uri}?versionId={version_id}" if version_id and uri.startswith("s3://") else uri


def param_text(value: str | int | float | bool) -> str:
    """A parameter's value as the entry point reads it: text as is, numbers and booleans as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class Run:
    """What one run trains: its data (pinned), parameters and seed, against which baseline."""

    data: str
    params: dict[str, str | int | float | bool]
    seed: int
    run_id: str
    baseline: str | None  # the version LATEST named when the run was planned; None: nothing promoted yet
    reproduces: str | None = None


def trainer_command(project: str, *, bucket: str, min_accuracy: float, run: Run) -> list[str]:
    command = ["--data", run.data, "--model", project, "--output", f"s3://{bucket}/models"]
    if min_accuracy != DEFAULT_MIN_ACCURACY:
        command += ["--min-accuracy", str(min_accuracy)]
    for name, value in sorted(run.params.items()):
        command += ["--param", f"{name}={param_text(value)}"]
    command += ["--no-promote", "--run-id", run.run_id, "--seed", str(run.seed)]
    if run.baseline is not None:
        command += ["--baseline", run.baseline]
    if run.reproduces is not None:
        command += ["--reproduces", run.reproduces]
    return command
