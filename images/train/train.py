"""Train a scikit-learn classifier, record how it was made, and promote it past a quality gate.

    python train.py --data URI --model NAME --output URI [--label COL] [--min-accuracy X]

URIs are ``s3://bucket/key``, ``file:///path`` or, for --data only, ``builtin:<name>``
(a data set that ships with scikit-learn). Every failure ends with one line on stderr,
``train: error: <reason>``, and one of the exit codes in ``ExitCode``.
"""

from __future__ import annotations

import argparse
import csv
import enum
import hashlib
import io
import json
import os
import platform
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

import joblib
import numpy as np
import sklearn
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

BUILTIN_DATASETS: dict[str, Callable[..., Any]] = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}
LATEST = "LATEST"
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"


class ExitCode(enum.IntEnum):
    UNEXPECTED = 1
    USAGE = 2  # argparse's own code for a bad command line
    DATA_NOT_FOUND = 3
    ACCESS_DENIED = 4
    BAD_DATA = 5  # unreadable file, missing label column, too few rows or classes
    GATE_FAILED = 6  # trained and stored, but not promoted
    STORAGE_UNAVAILABLE = 7  # no credentials, endpoint unreachable, output not writable


class TrainError(Exception):
    def __init__(self, code: ExitCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Dataset:
    features: np.ndarray
    labels: np.ndarray
    feature_names: list[str]
    label: str
    uri: str
    version: dict[str, str]  # where the bytes came from: S3 version id / ETag, or a content hash


# --- storage: one small interface over file:// and s3:// ---------------------------


def _s3_client() -> Any:
    import boto3  # imported lazily so builtin/file runs don't pay for it

    return boto3.client("s3")


def _s3_error(exc: Exception, uri: str, what: str) -> TrainError:
    """Turn a botocore failure into the reason a person needs, without a traceback."""
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}:
            return TrainError(ExitCode.DATA_NOT_FOUND, f"{what} not found: {uri}")
        if code in {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            return TrainError(ExitCode.ACCESS_DENIED, f"access denied ({code}): {uri}")
        return TrainError(ExitCode.STORAGE_UNAVAILABLE, f"S3 error {code}: {uri}: {error.get('Message', '')}")
    if isinstance(exc, NoCredentialsError):
        return TrainError(ExitCode.STORAGE_UNAVAILABLE, f"no AWS credentials for {uri}")
    return TrainError(ExitCode.STORAGE_UNAVAILABLE, f"S3 unavailable for {uri}: {exc}")


def _split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def read_object(uri: str) -> tuple[bytes, dict[str, str]]:
    """Return an object's bytes and what identifies that exact version of it."""
    scheme = urlparse(uri).scheme
    if scheme == "s3":
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, key = _split_s3(uri)
        try:
            response = _s3_client().get_object(Bucket=bucket, Key=key)
            body: bytes = response["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise _s3_error(exc, uri, "data") from None
        version = {"etag": str(response.get("ETag", "")).strip('"')}
        if response.get("VersionId"):
            version["version_id"] = str(response["VersionId"])
        return body, version
    if scheme == "file":
        path = Path(urlparse(uri).path)
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            raise TrainError(ExitCode.DATA_NOT_FOUND, f"data not found: {uri}") from None
        except (IsADirectoryError, PermissionError) as exc:
            raise TrainError(ExitCode.BAD_DATA, f"cannot read {uri}: {exc.strerror}") from None
        return body, {"sha256": hashlib.sha256(body).hexdigest()}
    raise TrainError(ExitCode.USAGE, f"unsupported URI scheme {scheme!r}: {uri} (use s3://, file:// or builtin:)")


def write_object(uri: str, body: bytes) -> None:
    """Write one object whole: readers see the old bytes or the new ones, never a part."""
    scheme = urlparse(uri).scheme
    if scheme == "s3":
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, key = _split_s3(uri)
        try:
            _s3_client().put_object(Bucket=bucket, Key=key, Body=body)
        except (BotoCoreError, ClientError) as exc:
            raise _s3_error(exc, uri, "output bucket") from None
        return
    if scheme == "file":
        path = Path(urlparse(uri).path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write beside the target, then rename: atomic on POSIX, so a crash leaves no torn file.
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
                tmp.write(body)
            os.replace(tmp.name, path)
        except OSError as exc:
            raise TrainError(ExitCode.STORAGE_UNAVAILABLE, f"cannot write {uri}: {exc.strerror}") from None
        return
    raise TrainError(ExitCode.USAGE, f"unsupported output URI scheme {scheme!r}: {uri} (use s3:// or file://)")


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
    features, labels, feature_names, label_name = parse_csv(body, uri, label)
    return Dataset(features, labels, feature_names, label_name, uri, version)


# --- training -------------------------------------------------------------------------


def train(data: Dataset, seed: int, test_size: float) -> tuple[Pipeline, dict[str, float | int]]:
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
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed))
    pipeline.fit(x_train, y_train)
    predicted = pipeline.predict(x_test)
    metrics = {
        "accuracy": float(accuracy_score(y_test, predicted)),
        "f1_macro": float(f1_score(y_test, predicted, average="macro")),
        "train_rows": len(y_train),
        "test_rows": len(y_test),
    }
    return pipeline, metrics


def serialize(pipeline: Pipeline) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    return buffer.getvalue()


def library_versions() -> dict[str, str]:
    import scipy

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
    }


def new_version_id(now: datetime, model_sha256: str) -> str:
    """Sortable by time, unique per run, naming the content: 20260101T030000123456Z-1a2b3c4d.

    Microseconds keep two runs in the same second apart, so a re-run never rewrites
    a version that LATEST may already point at.
    """
    return f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{model_sha256[:8]}"


def run(args: argparse.Namespace) -> int:
    data = load_dataset(args.data, args.label)
    pipeline, metrics = train(data, args.seed, args.test_size)
    model_bytes = serialize(pipeline)
    model_sha256 = hashlib.sha256(model_bytes).hexdigest()
    now = datetime.now(timezone.utc)
    version = new_version_id(now, model_sha256)
    passed = metrics["accuracy"] >= args.min_accuracy
    metadata = {
        "model": args.model,
        "version": version,
        "sha256": model_sha256,
        "libraries": library_versions(),
        "data": {"uri": data.uri, **data.version, "rows": int(len(data.labels)), "label": data.label},
        "features": data.feature_names,
        "classes": np.unique(data.labels).tolist(),
        "metrics": metrics,
        "gate": {"min_accuracy": args.min_accuracy, "passed": passed},
        "training": {"seed": args.seed, "test_size": args.test_size, "estimator": "StandardScaler+LogisticRegression"},
        "image_tag": os.environ.get("IMAGE_TAG", "unknown"),
        "created_at": now.isoformat(timespec="seconds"),
    }
    model_root = f"{args.output.rstrip('/')}/{args.model}"
    # Order matters: the version directory is complete (model, then metadata) before LATEST
    # may point at it, so a reader that follows LATEST never finds a half-written version.
    write_object(f"{model_root}/{version}/{MODEL_FILE}", model_bytes)
    write_object(f"{model_root}/{version}/{METADATA_FILE}", json.dumps(metadata, indent=2).encode() + b"\n")
    accuracy = metrics["accuracy"]
    if not passed:
        raise TrainError(
            ExitCode.GATE_FAILED,
            f"accuracy {accuracy:.4f} < --min-accuracy {args.min_accuracy}: "
            f"kept {model_root}/{version}, not promoted",
        )
    write_object(f"{model_root}/{LATEST}", f"{version}\n".encode())
    print(f"train: promoted {model_root}/{version} (accuracy {accuracy:.4f})")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="s3://bucket/key.csv, file:///path.csv or builtin:<name>")
    parser.add_argument("--model", required=True, help="model name: the folder under --output")
    parser.add_argument("--output", required=True, help="s3://bucket/prefix or file:///dir")
    parser.add_argument("--label", default=None, help="label column (default: 'target' or 'label', else the last)")
    parser.add_argument("--min-accuracy", type=float, default=0.8, help="promote only at or above this (default 0.8)")
    parser.add_argument("--seed", type=int, default=42, help="seed for the split and the estimator (default 42)")
    parser.add_argument("--test-size", type=float, default=0.2, help="held-out fraction (default 0.2)")
    args = parser.parse_args(argv)
    if not args.model or "/" in args.model:
        parser.error(f"--model must be a non-empty name without '/': {args.model!r}")
    if not 0.0 < args.test_size < 1.0:
        parser.error(f"--test-size must be between 0 and 1: {args.test_size}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except TrainError as exc:
        print(f"train: error: {exc.reason}", file=sys.stderr)
        return exc.code
    except Exception as exc:  # a bug still gets one line, per the image contract
        print(f"train: error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return ExitCode.UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
