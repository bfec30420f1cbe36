"""train's steps that are the same on every backend: the run's command, and the local test seam.

The command is planned when train starts: validate_data's plan (the pinned data, the
parameters, the seed, a reproduction's image) and the baseline, which is what LATEST names at
that moment (a reproduce run's baseline is the version it reproduces: the trainer scores the
original model on the reproduction's held-out rows). promote later refuses if LATEST moved.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable
from typing import Any

from mlops_pipeline.batch import IMAGE_ENV
from mlops_pipeline.command import Run, trainer_command
from mlops_pipeline.settings import Project
from mlops_pipeline.versions import read_latest

GATE_FAILED = 6  # stored, below the gate: a result, which evaluate reports
FINAL_EXIT_CODES = {2, 3, 4, 5}  # bad command line, data not found, access denied, bad data


def planned_run(project: Project, plan: dict[str, Any], run_id: str, s3: Any) -> Run:
    baseline = plan["reproduces"] or read_latest(s3, project.bucket, project.name).version
    return Run(
        data=plan["data"],
        params=plan["params"],
        seed=plan["seed"],
        run_id=run_id,
        baseline=baseline,
        reproduces=plan["reproduces"],
    )


def command_for(project: Project, run: Run) -> list[str]:
    return trainer_command(project.name, bucket=project.bucket, min_accuracy=float(project.spec["min_accuracy"]), run=run)


def run_local(trainer: str, command: list[str], *, image: str, log: Callable[[str], None]) -> int:
    """The seam: the trainer as a subprocess with the job's arguments and image variable; its exit code."""
    env = {**os.environ, IMAGE_ENV: image}
    argv = [*shlex.split(trainer), *command]
    log(f"local trainer (MLOPS_PIPELINE_LOCAL_TRAINER): {shlex.join(argv)}")
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            log(line.rstrip())
    return process.returncode
