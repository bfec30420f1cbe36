"""The built-in trainer: a scaler and logistic regression on a CSV or a builtin data set.

    python train.py --data URI --model NAME --output URI [--label COL] [--min-accuracy X]
                    [--param NAME=VALUE ...] [--no-promote] [--seed N] [--test-size F]
                    [--run-id ID] [--baseline VERSION] [--reproduces VERSION]

URIs are ``s3://bucket/key`` (``?versionId=<id>`` for one version of the object),
``file:///path`` or, for --data only, ``builtin:<name>`` (a data set that ships with
scikit-learn). The contract (storage, versions, metadata,
promotion, exit codes) is ``mlops_training``, beside this file. Every failure ends with
one line on stderr, ``train: error: <reason>``, and one of the exit codes in ``ExitCode``.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy
import sklearn
from numpy.typing import ArrayLike
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

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
    read_object,
    run_main,
    split_version_id,
)

BUILTIN_DATASETS: dict[str, Callable[..., Any]] = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}
ESTIMATOR = "StandardScaler+LogisticRegression"
# LogisticRegression's settings that change the model: its inverse regularisation
# strength, and the solver's iteration cap (raised from 100, which iris does not converge in).
PARAMS: dict[str, Param] = {"C": positive_float(1.0), "max_iter": positive_int(1000)}


@dataclass(frozen=True)
class Dataset:
    features: np.ndarray
    labels: np.ndarray
    feature_names: list[str]
    label: str
    uri: str  # without ?versionId: `version` says which version was read
    version: dict[str, str]  # where the bytes came from: S3 version id / ETag, or a content hash


# --- data ---------------------------------------------------------------------------


def load_builtin(name: str, label: str | None) -> Dataset:
    if name not in BUILTIN_DATASETS:
        known = ", ".join(sorted(BUILTIN_DATASETS))
        raise TrainError(ExitCode.DATA_NOT_FOUND, f"data not found: builtin:{name} (known: {known})")
    bunch = BUILTIN_DATASETS[name]()
    if label not in (None, "target"):
        raise TrainError(ExitCode.BAD_DATA, f"label column {label!r} not in builtin:{name} (its label is 'target')")
    return Dataset(
        features=np.asarray(bunch.data, dtype=np.float64),
        labels=np.asarray(bunch.target),
        feature_names=[str(n) for n in getattr(bunch, "feature_names", [])]
        or [f"x{i}" for i in range(bunch.data.shape[1])],
        label="target",
        uri=f"builtin:{name}",
        version={"version": f"scikit-learn {sklearn.__version__}"},
    )


def parse_csv(body: bytes, uri: str, label: str | None) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """Parse a CSV with a header row: numeric feature columns and one label column.

    The label defaults to a column named ``target`` or ``label``, else the last column.
    """
    try:
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise TrainError(ExitCode.BAD_DATA, f"unreadable CSV {uri}: {exc}") from None
    rows = [row for row in rows if row]
    if len(rows) < 2:
        raise TrainError(ExitCode.BAD_DATA, f"unreadable CSV {uri}: need a header row and data rows")
    header = [name.strip() for name in rows[0]]
    if label is None:
        label = next((name for name in ("target", "label") if name in header), header[-1])
    if label not in header:
        raise TrainError(ExitCode.BAD_DATA, f"label column {label!r} not in {uri} (columns: {', '.join(header)})")
    if len(header) < 2:
        raise TrainError(ExitCode.BAD_DATA, f"unreadable CSV {uri}: no feature columns besides {label!r}")
    label_index = header.index(label)
    feature_indexes = [i for i in range(len(header)) if i != label_index]
    features: list[list[float]] = []
    labels: list[str] = []
    for line_number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise TrainError(
                ExitCode.BAD_DATA, f"unreadable CSV {uri}: line {line_number} has {len(row)} fields, header has {len(header)}"
            )
        try:
            features.append([float(row[i]) for i in feature_indexes])
        except ValueError:
            raise TrainError(ExitCode.BAD_DATA, f"unreadable CSV {uri}: non-numeric feature on line {line_number}") from None
        labels.append(row[label_index].strip())
    label_array = np.asarray(labels)
    try:  # integer class labels stay integers, so the server returns INT64 rather than BYTES
        label_array = label_array.astype(np.int64)
    except ValueError:
        pass
    return np.asarray(features, dtype=np.float64), label_array, [header[i] for i in feature_indexes], label


def load_dataset(uri: str, label: str | None) -> Dataset:
    if uri.startswith("builtin:"):
        return load_builtin(uri.removeprefix("builtin:"), label)
    body, version = read_object(uri)
    object_uri = split_version_id(uri)[0]
    features, labels, feature_names, label_name = parse_csv(body, object_uri, label)
    return Dataset(features, labels, feature_names, label_name, object_uri, version)


# --- training -------------------------------------------------------------------------


Scorer = Callable[[Any], dict[str, float | int]]


def held_out_scorer(x_test: ArrayLike, y_test: ArrayLike) -> Scorer:
    """Accuracy and macro F1 of any fitted estimator on the held-out split: the new model's and a baseline's."""

    def score(estimator: Any) -> dict[str, float | int]:
        predicted = estimator.predict(x_test)
        return {
            "accuracy": float(accuracy_score(y_test, predicted)),
            "f1_macro": float(f1_score(y_test, predicted, average="macro")),
        }

    return score


def train(data: Dataset, seed: int, test_size: float, params: dict[str, Any]) -> tuple[Pipeline, dict[str, float | int], Scorer]:
    classes, counts = np.unique(data.labels, return_counts=True)
    if len(classes) < 2:
        raise TrainError(ExitCode.BAD_DATA, f"{data.uri}: label {data.label!r} has fewer than two classes")
    stratify = data.labels if counts.min() >= 2 else None
    try:
        x_train, x_test, y_train, y_test = train_test_split(
            data.features, data.labels, test_size=test_size, random_state=seed, stratify=stratify
        )
    except ValueError as exc:
        raise TrainError(ExitCode.BAD_DATA, f"{data.uri}: cannot split {len(data.labels)} rows: {exc}") from None
    estimator = LogisticRegression(C=params["C"], max_iter=params["max_iter"], random_state=seed)
    pipeline = make_pipeline(StandardScaler(), estimator)
    pipeline.fit(x_train, y_train)
    score = held_out_scorer(x_test, y_test)
    return pipeline, {**score(pipeline), "train_rows": len(y_train), "test_rows": len(y_test)}, score


def run(args: argparse.Namespace) -> int:
    data = load_dataset(args.data, args.label)
    pipeline, metrics, score = train(data, args.seed, args.test_size, args.params)
    trained = Trained(
        estimator=pipeline,
        metrics=metrics,
        data={"uri": data.uri, **data.version, "rows": int(len(data.labels)), "label": data.label},
        features=data.feature_names,
        classes=np.unique(data.labels).tolist(),
        training={"seed": args.seed, "test_size": args.test_size, "estimator": ESTIMATOR, "params": args.params},
        libraries=library_versions(sklearn, np, scipy),
        score=score,
    )
    return publish(trained, args)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = contract_parser(__doc__, PARAMS)
    parser.add_argument("--label", default=None, help="label column (default: 'target' or 'label', else the last)")
    parser.add_argument("--test-size", type=float, default=0.2, help="held-out fraction (default 0.2)")
    args = parse_contract(parser, PARAMS, argv)
    if not 0.0 < args.test_size < 1.0:
        parser.error(f"--test-size must be between 0 and 1: {args.test_size}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_main(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
