"""The training section: its timeout and the data a run reads, as the job's --data."""

from __future__ import annotations

import json

import pytest

from components.config import training_data_uri
from tests.config.support import parse, problems


def test_training_timeout_defaults_to_an_hour() -> None:
    assert parse().training.timeout_minutes == 60


@pytest.mark.parametrize(
    ("data", "uri"),
    [
        ("builtin:iris", "builtin:iris"),
        ("datasets/iris.csv", "s3://data-bucket/datasets/iris.csv"),
        ("/datasets/iris.csv", "s3://data-bucket/datasets/iris.csv"),
        ("s3://other/x.csv", "s3://other/x.csv"),
    ],
)
def test_training_data_becomes_the_jobs_data_uri(data: str, uri: str) -> None:
    assert training_data_uri(data, "data-bucket") == uri


@pytest.mark.parametrize("data", ["s3://bucket/key.csv", "s3://bucket/dir/key.csv", "datasets/iris.csv", "X", "builtin:wine", "builtin:digits", "builtin:breast_cancer"])
def test_training_data_accepts_these(data: str) -> None:
    assert parse(training={"data": data}).training.data == data


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("datasets/a\tb.csv", "must be one line without spaces or control characters"),
        ("datasets/a b.csv", "must be one line without spaces or control characters"),
        ("s3://bucket", "use builtin:<name>, s3://bucket/key, or a key in the data bucket"),
        ("/", "must not be empty"),
        ("", "must not be empty"),
    ],
)
def test_training_data_refuses_these(data: str, reason: str) -> None:
    # Each would reach the training job as a --data it cannot read (or a shell-split argument).
    assert problems(training={"data": data}) == [f"mlops:training.data: {json.dumps(data)} is invalid: {reason}"]
