"""The Airflow DAG factory: one DAG per project of the stack, from pipeline.json and MLOPS_PIPELINE_RUNTIME.

The projects, their schedules, data, gates and hyperparameters are the stack's (baked into the
image as pipeline.json, so a project change retags the image); the tasks are mlops_pipeline's.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The DAG processor and the task runner put the DAG folder on sys.path; `airflow dags test` and
# a bare DagBag do not, so the factory finds its package beside itself.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.append(str(Path(__file__).resolve().parent))

from mlops_pipeline.dag import build_dag  # noqa: E402
from mlops_pipeline.settings import projects, read_runtime, read_spec  # noqa: E402

for _project in projects(read_spec(), read_runtime()):
    globals()[_project.name] = build_dag(_project)
