"""What the Batch component is given (components/batch/args.py)."""

from __future__ import annotations

import dataclasses

import pytest

from components.batch import BatchTrainingArgs
from components.batch.args import instance_sizes
from components.batch.job import JobResources
from components.config import ComputeConfig
from components.instance_types import GPU_INSTANCE_TYPES


@pytest.mark.parametrize("cls", [BatchTrainingArgs, JobResources])
def test_batch_arguments_cannot_change_once_made(cls: type) -> None:
    # The component reads its args while it registers children and again in apply callbacks; an
    # args object changed in between would give the queue and the job definition different values.
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen is True  # type: ignore[attr-defined]


def test_batch_training_args_are_given_by_name() -> None:
    # Twenty-odd fields of similar types: passed by position, two swapped ones would go unnoticed.
    assert all(f.kw_only for f in dataclasses.fields(BatchTrainingArgs))


def test_instance_sizes_follow_the_allowed_types_in_order() -> None:
    compute = ComputeConfig.model_validate({"kind": "ec2", "instanceType": ["g5.2xlarge", "g4dn.xlarge"]})
    assert instance_sizes(compute) == [GPU_INSTANCE_TYPES["g5.2xlarge"], GPU_INSTANCE_TYPES["g4dn.xlarge"]]
