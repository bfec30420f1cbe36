"""A project's training run as its entry point sees it: the train.py contract's arguments
(images/README.md), the same on Batch and on a cluster."""

from __future__ import annotations

import json

from components.config import TrainConfig, training_data_uri

DEFAULT_MIN_ACCURACY = 0.8  # images/train/train.py's own default: not repeated on the command line
TRAINING_IMAGE_ENV = "MLOPS_TRAINING_IMAGE"
"""The variable that tells a run the image it runs, `<registry>/<repository>@sha256:<digest>`:
metadata.json records it (images/train/mlops_training.py reads the same name)."""


def training_command(project: str, train: TrainConfig, *, bucket_name: str) -> list[str]:
    """--data, --model and --output; then the gate where it differs from the default, and each parameter."""
    command = [
        "--data",
        training_data_uri(train.data, bucket_name),
        "--model",
        project,
        "--output",
        f"s3://{bucket_name}/models",
    ]
    if train.min_accuracy != DEFAULT_MIN_ACCURACY:
        command += ["--min-accuracy", str(train.min_accuracy)]
    for name, value in sorted(train.params.items()):
        command += ["--param", f"{name}={param_text(value)}"]
    return command


def param_text(value: str | int | float | bool) -> str:
    """A parameter's value as the entry point reads it: text as is, numbers and booleans as JSON."""
    return value if isinstance(value, str) else json.dumps(value)
