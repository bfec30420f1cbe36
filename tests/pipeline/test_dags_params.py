"""A run's conf is checked by Airflow against the DAG's Params before the run exists: a bad one is
refused with the reason (REST 400, `airflow dags trigger` and `airflow dags test` exit non-zero),
a good one is taken. The verdicts come from DagBag's DAGs (conftest.py's report)."""

from __future__ import annotations

from typing import Any

import pytest
from mlops_pipeline.conf_schema import check_conf
from mlops_pipeline.errors import Refused

from tests.pipeline.conftest import BAD_CONFS, GOOD_CONFS

REASONS = {
    "unknown hyperparameter": "Invalid input for param params: Additional properties are not allowed ('gamma' was unexpected)",
    "hyperparameter of the wrong type": "Invalid input for param params: 'small' is not of type 'number'",
    "data URI of another scheme": "Invalid input for param data: 'http://example.com/iris.csv' does not match",
    "data URI with a query": "Invalid input for param data: 's3://mlops-dev-data/datasets/iris.csv?versionId=abc' does not match",
    "data version with a space": "Invalid input for param data_version: 'not a version' does not match",
    "version in another format": "Invalid input for param reproduce: '2026-01-01-abcdef12' does not match '^[0-9]{8}T[0-9]{12}Z-[0-9a-f]{8}$'",
}


@pytest.mark.parametrize("label", sorted(BAD_CONFS))
def test_a_bad_conf_is_refused_with_its_reason(label: str, dev_dags: dict[str, Any]) -> None:
    verdict = dev_dags["dags"]["digits"]["confs"][label]
    assert verdict is not None and verdict.startswith(REASONS[label]), verdict


@pytest.mark.parametrize("label", sorted(GOOD_CONFS))
def test_a_good_conf_is_taken(label: str, dev_dags: dict[str, Any]) -> None:
    assert dev_dags["dags"]["digits"]["confs"][label] is None


def test_a_hyperparameter_the_project_does_not_declare_is_refused_even_if_the_trainer_knows_it(dev_dags: dict[str, Any]) -> None:
    # dev's iris sets no train.params: C is train.py's, but a run may only set what the stack declares.
    assert dev_dags["dags"]["iris"]["confs"]["a hyperparameter"] == (
        "Invalid input for param params: Additional properties are not allowed ('C' was unexpected)"
    )


# --- what validate_data refuses before anything trains ---------------------------------

DEFAULTS = {"data": None, "data_version": None, "params": {}, "reproduce": None}
VERSION = "20261201T163706449772Z-11af9d13"


def test_an_unknown_conf_key_is_refused_by_the_first_task() -> None:
    # Airflow keeps a conf key no Param declares; validate_data refuses it, naming the keys a run takes.
    with pytest.raises(Refused, match=r"^unknown conf key\(s\) dat, seed: a run takes data, data_version, params, reproduce$"):
        check_conf({"dat": "builtin:iris", "seed": 1}, DEFAULTS)


@pytest.mark.parametrize(("given", "named"), [({"data": "builtin:wine"}, "data"), ({"params": {"C": 1.0}}, "params"),
                                              ({"data": "s3://b/k.csv", "data_version": "v"}, "data, data_version")])
def test_a_reproduction_with_data_or_parameters_of_its_own_is_refused(given: dict[str, Any], named: str) -> None:
    conf = {"reproduce": VERSION, **given}
    with pytest.raises(Refused, match=f"^reproduce takes the version's own data, parameters and seed: leave out {named}$"):
        check_conf(conf, {**DEFAULTS, **conf})


def test_a_plain_conf_passes_the_first_tasks_check() -> None:
    for conf in ({}, {"params": {"C": 1.0}}, {"reproduce": VERSION}, {"data": "builtin:wine"}):
        check_conf(conf, {**DEFAULTS, **conf})
