"""The digits project: an XGBoost image classifier on scikit-learn's bundled 8x8 digits, on the GPU when there is one.

    python train.py --data builtin:digits --model NAME --output URI [--min-accuracy X]
                    [--param NAME=VALUE ...] [--no-promote] [--seed N]
                    [--run-id ID] [--baseline VERSION] [--reproduces VERSION]

It keeps the platform's training contract through ``mlops_training``, which the
generated training image puts on ``PYTHONPATH`` (in a checkout: ``images/train``).
It logs the device it trained on and records it in metadata.json's ``training``.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy
import sklearn
import xgboost
from numpy.typing import ArrayLike
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from xgboost import XGBClassifier

from mlops_training import (
    ExitCode,
    Param,
    Trained,
    TrainError,
    contract_parser,
    library_versions,
    parse_contract,
    positive_float,
    positive_int,
    publish,
    run_main,
)

DATA = "builtin:digits"
TEST_SIZE = 0.2
ESTIMATOR = "XGBClassifier"
PARAMS: dict[str, Param] = {
    "n_estimators": positive_int(100),
    "max_depth": positive_int(6),
    "learning_rate": positive_float(0.3),
}


def choose_device(cuda_build: bool, gpu_devices: Sequence[str], cuda_visible_devices: str | None) -> str:
    """"cuda" when this XGBoost was built with CUDA and a GPU is visible, else "cpu".

    A GPU is visible when the container has an NVIDIA device node (the device plugin and
    Batch mount them) and CUDA_VISIBLE_DEVICES does not hide them all ("" or "-1").
    """
    if not cuda_build or (cuda_visible_devices is not None and cuda_visible_devices.strip() in {"", "-1"}):
        return "cpu"
    return "cuda" if gpu_devices else "cpu"


def training_device() -> str:
    cuda_build = bool(xgboost.build_info().get("USE_CUDA"))
    gpus = sorted(glob.glob("/dev/nvidia[0-9]*"))
    device = choose_device(cuda_build, gpus, os.environ.get("CUDA_VISIBLE_DEVICES"))
    build = "a CUDA build" if cuda_build else "a CPU-only build"
    print(f"train: training on {device} (xgboost {xgboost.__version__}, {build}, GPU devices: {', '.join(gpus) or 'none'})")
    return device


Scorer = Callable[[Any], dict[str, float | int]]


def held_out_scorer(x_test: ArrayLike, y_test: ArrayLike) -> Scorer:
    """Accuracy and macro F1 of any fitted classifier on the held-out images: the new model's and a baseline's."""

    def score(model: Any) -> dict[str, float | int]:
        predicted = model.predict(x_test)
        return {
            "accuracy": float(accuracy_score(y_test, predicted)),
            "f1_macro": float(f1_score(y_test, predicted, average="macro")),
        }

    return score


def fit(seed: int, params: dict[str, Any], device: str) -> tuple[XGBClassifier, dict[str, float | int], Scorer, Any]:
    digits: Any = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=TEST_SIZE, random_state=seed, stratify=digits.target
    )
    model = XGBClassifier(**params, tree_method="hist", device=device, random_state=seed)
    model.fit(x_train, y_train)
    # The server predicts on CPU: a model stored with device="cuda" would ask it for a GPU. Scored
    # after the switch, so the metrics are those of the model as stored, as a baseline's are.
    model.set_params(device="cpu")
    score = held_out_scorer(x_test, y_test)
    return model, {**score(model), "train_rows": len(y_train), "test_rows": len(y_test)}, score, digits


def run(args: argparse.Namespace) -> int:
    if args.data != DATA:
        raise TrainError(ExitCode.DATA_NOT_FOUND, f"data not found: {args.data} (this project trains on {DATA})")
    device = training_device()
    model, metrics, score, digits = fit(args.seed, args.params, device)
    trained = Trained(
        estimator=model,
        metrics=metrics,
        data={"uri": DATA, "version": f"scikit-learn {sklearn.__version__}", "rows": len(digits.target), "label": "target"},
        features=[str(name) for name in digits.feature_names],
        classes=np.unique(digits.target).tolist(),
        training={"seed": args.seed, "test_size": TEST_SIZE, "estimator": ESTIMATOR, "params": args.params, "device": device},
        libraries=library_versions(sklearn, np, scipy, xgboost),
        score=score,
    )
    return publish(trained, args)


def main(argv: list[str] | None = None) -> int:
    parser = contract_parser(__doc__, PARAMS)
    args = parse_contract(parser, PARAMS, argv)
    return run_main(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
