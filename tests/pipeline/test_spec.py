"""The spec baked into the DAG image (components/pipeline/spec.py): what each project's DAG is told."""

from __future__ import annotations

from components.pipeline.spec import pipeline_spec
from tests.config.support import iris, parse


def test_a_server_that_follows_latest_is_rolled_out_to_and_a_pinned_one_is_not() -> None:
    follows = parse(**iris(serve={}))
    pinned = parse(**iris(serve={"modelVersion": "20260101T030000123456Z-1a2b3c4d"}))
    trains_only = parse(**iris())
    assert pipeline_spec(follows)["projects"]["iris"]["served"] is True
    # A promotion does not change what a pinned server serves: there is nothing to roll out.
    assert pipeline_spec(pinned)["projects"]["iris"]["served"] is False
    assert pipeline_spec(trains_only)["projects"]["iris"]["served"] is False
