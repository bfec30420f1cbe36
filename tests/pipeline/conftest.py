"""Fixtures for the pipeline tests: what DagBag makes of each stack's DAGs (one .venv-airflow run each)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.pipeline.support import dagbag_report, runtime_for, stack_spec, two_projects

BAD_CONFS: dict[str, Any] = {
    "unknown hyperparameter": {"params": {"gamma": 0.1}},
    "hyperparameter of the wrong type": {"params": {"C": "small"}},
    "data URI of another scheme": {"data": "http://example.com/iris.csv"},
    "data URI with a query": {"data": "s3://mlops-dev-data/datasets/iris.csv?versionId=abc"},
    "data version with a space": {"data_version": "not a version"},
    "version in another format": {"reproduce": "2026-01-01-abcdef12"},
}
GOOD_CONFS: dict[str, Any] = {
    "nothing": {},
    "a hyperparameter": {"params": {"C": 0.25}},
    "builtin data": {"data": "builtin:wine"},
    "s3 data at a version": {"data": "s3://mlops-dev-data/datasets/iris.csv", "data_version": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"},
    "a reproduction": {"reproduce": "20261201T163706449772Z-11af9d13"},
}


def report(tmp_path_factory: pytest.TempPathFactory, spec: Any) -> dict[str, Any]:
    return dagbag_report(tmp_path_factory.mktemp("dagbag"), spec, runtime_for(spec), {**BAD_CONFS, **GOOD_CONFS})


@pytest.fixture(scope="session")
def dev_dags(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """dev's DAGs (iris on Batch, served), with a second project that trains only and has hyperparameters."""
    return report(tmp_path_factory, two_projects(stack_spec("dev")))


@pytest.fixture(scope="session")
def prod_dags(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """prod's DAGs, from its stack file as it is: iris trains with a Job on GKE's GPU pool."""
    return report(tmp_path_factory, stack_spec("prod"))
