"""A project's training run as its entry point sees it: the train.py contract's arguments."""

from __future__ import annotations

from components.config import TrainConfig
from components.training_command import param_text, training_command


def test_the_contract_arguments_name_the_project_and_the_bucket() -> None:
    assert training_command("iris", TrainConfig(source="images/train"), bucket_name="b") == [
        "--data", "builtin:iris", "--model", "iris", "--output", "s3://b/models",
    ]


def test_a_stricter_gate_and_the_parameters_follow() -> None:
    train = TrainConfig(source="images/train", data="datasets/d.csv", min_accuracy=0.95, params={"n": 200, "C": 0.5, "solver": "lbfgs"})
    assert training_command("digits", train, bucket_name="b") == [
        "--data", "s3://b/datasets/d.csv", "--model", "digits", "--output", "s3://b/models",
        "--min-accuracy", "0.95", "--param", "C=0.5", "--param", "n=200", "--param", "solver=lbfgs",
    ]


def test_parameter_values_are_text_or_json() -> None:
    assert [param_text(v) for v in ("adam", 3, 0.1, True)] == ["adam", "3", "0.1", "true"]
