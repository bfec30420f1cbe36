"""The serving section: replica bounds and whole CPU cores."""

from __future__ import annotations

import pytest

from tests.config.support import parse, problems


def test_equal_min_and_max_replicas_are_accepted() -> None:
    assert parse(serving={"minReplicas": 2, "maxReplicas": 2}).serving.max_replicas == 2


@pytest.mark.parametrize("cores", [0.5, 1.5])
def test_fractional_serving_cpu_says_whole_cores_and_why(cores: float) -> None:
    assert problems(serving={"cpu": cores}) == [
        f"mlops:serving.cpu: {cores} is invalid: must be a whole number of cores (1, 2, ...), not {cores}: "
        "the server runs one worker process per core (WEB_CONCURRENCY = cpu), and the pod's CPU request "
        "and limit are that many cores"
    ]
