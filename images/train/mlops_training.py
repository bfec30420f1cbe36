"""The training contract as a library: command line, storage, versions, metadata, promotion, exit codes.

Every training entry point of the platform (the built-in ``train.py`` beside this file,
and any project's own) takes

    --data URI --model NAME --output URI [--min-accuracy X] [--param NAME=VALUE ...] [--no-promote]

and writes ``<output>/<model>/<version>/model.joblib``, then ``metadata.json``, then, if
the gate passes and ``--no-promote`` is not given, ``<output>/<model>/LATEST``. A project
may import this module to keep that contract (the generated training images put it on
``PYTHONPATH``); it needs only the standard library, plus joblib to store the model and
boto3 for ``s3://``, both imported when used.
"""

from __future__ import annotations

import argparse
import enum
import hashlib
import io
import json
import math
import os
import platform
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn
from urllib.parse import urlparse

LATEST = "LATEST"
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
PROG = "train"
# The platform tells each run the image it runs, `<registry>/<repository>@sha256:<digest>`
# (components/training_command.py names the same variable); unset outside a job.
IMAGE_ENV = "MLOPS_TRAINING_IMAGE"
# Distribution names for the modules whose import name differs, as the server compares them.
DISTRIBUTION_NAMES = {"sklearn": "scikit-learn"}


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


# --- the command line ----------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One hyperparameter a trainer accepts as ``--param NAME=VALUE``."""

    default: float | int
    parse: Callable[[str], float | int]  # int or float
    allowed: Callable[[float | int], bool]
    rule: str  # what `allowed` accepts, for the error message


def positive_float(default: float) -> Param:
    return Param(default, float, lambda v: math.isfinite(v) and v > 0, "a number > 0")


def positive_int(default: int) -> Param:
    return Param(default, int, lambda v: v >= 1, "an integer >= 1")


def parse_params(pairs: Sequence[str], known: Mapping[str, Param]) -> dict[str, float | int]:
    """``["C=0.5"]`` -> every known parameter with its value (the default where not given).

    Raises ValueError with a one-line reason for a malformed pair, an unknown name, a
    name given twice or a value its rule refuses.
    """
    given: dict[str, float | int] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name or not text:
            raise ValueError(f"--param {pair!r} is not NAME=VALUE")
        if name not in known:
            raise ValueError(f"--param: unknown name {name!r} (known: {', '.join(known) or 'none'})")
        if name in given:
            raise ValueError(f"--param: {name} given twice")
        param = known[name]
        try:
            value = param.parse(text)
        except ValueError:
            value = None
        if value is None or not param.allowed(value):
            raise ValueError(f"--param {pair}: {name} must be {param.rule}")
        given[name] = value
    return {name: given.get(name, param.default) for name, param in known.items()}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr, as every other failure is."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")


def contract_parser(description: str | None, params: Mapping[str, Param]) -> OneLineParser:
    """The contract's arguments; a trainer adds its own before calling ``parse_contract``."""
    known = ", ".join(f"{name} (default {param.default})" for name, param in params.items()) or "none"
    parser = OneLineParser(prog=PROG, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="what to train on: s3://bucket/key, file:///path or builtin:<name>")
    parser.add_argument("--model", required=True, help="model name: the folder under --output")
    parser.add_argument("--output", required=True, help="s3://bucket/prefix or file:///dir")
    parser.add_argument("--min-accuracy", type=float, default=0.8, help="promote only at or above this (default 0.8)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help=f"a hyperparameter: {known}")
    parser.add_argument("--no-promote", action="store_true", help="store the version, never move LATEST (a pipeline decides)")
    return parser


def parse_contract(parser: OneLineParser, params: Mapping[str, Param], argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and check the command line; ``args.params`` holds every hyperparameter's value."""
    args = parser.parse_args(argv)
    if not args.model or "/" in args.model:
        parser.error(f"--model must be a non-empty name without '/': {args.model!r}")
    try:
        args.params = parse_params(args.param, params)
    except ValueError as exc:
        parser.error(str(exc))
    return args


# --- versions, metadata and promotion --------------------------------------------------


@dataclass(frozen=True)
class Trained:
    """What a trainer made, and what metadata.json records about it."""

    estimator: Any
    metrics: dict[str, float | int]  # holds "accuracy", the gate's measure
    data: dict[str, Any]  # uri, where the bytes came from, rows, label
    features: list[str]
    classes: list[Any]
    training: dict[str, Any]  # estimator, seed, params, ...
    libraries: dict[str, str]  # from library_versions(): the server refuses a model made with others


def library_versions(*modules: ModuleType) -> dict[str, str]:
    """Python's version and each module's, under its distribution name (``sklearn`` -> ``scikit-learn``)."""
    import joblib  # the model is stored with it, so its version is always recorded

    versions = {"python": platform.python_version(), "joblib": joblib.__version__}
    for module in modules:
        versions[DISTRIBUTION_NAMES.get(module.__name__, module.__name__)] = str(module.__version__)
    return versions


def new_version_id(now: datetime, model_sha256: str) -> str:
    """Sortable by time, unique per run, naming the content: 20260101T030000123456Z-1a2b3c4d.

    Microseconds keep two runs in the same second apart, so a re-run never rewrites
    a version that LATEST may already point at.
    """
    return f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{model_sha256[:8]}"


def serialize(estimator: Any) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    return buffer.getvalue()


def metadata_for(trained: Trained, args: argparse.Namespace, version: str, sha256: str, now: datetime) -> dict[str, Any]:
    return {
        "model": args.model,
        "version": version,
        "sha256": sha256,
        "libraries": trained.libraries,
        "data": trained.data,
        "features": trained.features,
        "classes": trained.classes,
        "metrics": trained.metrics,
        "gate": {
            "min_accuracy": args.min_accuracy,
            "passed": trained.metrics["accuracy"] >= args.min_accuracy,
            "promote": not args.no_promote,  # False: --no-promote, LATEST is the pipeline's to move
        },
        "training": trained.training,
        "image": os.environ.get(IMAGE_ENV) or None,  # the digest this run ran; None for a local run
        "created_at": now.isoformat(timespec="seconds"),
    }


def publish(trained: Trained, args: argparse.Namespace) -> int:
    """Store the version (model, then metadata) and promote it past the gate, unless --no-promote."""
    model_bytes = serialize(trained.estimator)
    sha256 = hashlib.sha256(model_bytes).hexdigest()
    now = datetime.now(timezone.utc)
    version = new_version_id(now, sha256)
    metadata = metadata_for(trained, args, version, sha256, now)
    model_root = f"{args.output.rstrip('/')}/{args.model}"
    # Order matters: the version directory is complete (model, then metadata) before LATEST
    # may point at it, so a reader that follows LATEST never finds a half-written version.
    write_object(f"{model_root}/{version}/{MODEL_FILE}", model_bytes)
    write_object(f"{model_root}/{version}/{METADATA_FILE}", json.dumps(metadata, indent=2).encode() + b"\n")
    accuracy = trained.metrics["accuracy"]
    if not metadata["gate"]["passed"]:
        raise TrainError(
            ExitCode.GATE_FAILED,
            f"accuracy {accuracy:.4f} < --min-accuracy {args.min_accuracy}: kept {model_root}/{version}, not promoted",
        )
    if args.no_promote:
        print(f"{PROG}: stored {model_root}/{version} (accuracy {accuracy:.4f}), not promoted (--no-promote)")
        return 0
    promote(model_root, version)
    print(f"{PROG}: promoted {model_root}/{version} (accuracy {accuracy:.4f})")
    return 0


def promote(model_root: str, version: str) -> None:
    """Point ``<model_root>/LATEST`` at a stored version: the one-line object servers follow."""
    write_object(f"{model_root}/{LATEST}", f"{version}\n".encode())


def run_main(run: Callable[[], int]) -> int:
    """Run a trainer: every failure becomes one line on stderr and its exit code, never a traceback."""
    try:
        return run()
    except TrainError as exc:
        print(f"{PROG}: error: {exc.reason}", file=sys.stderr)
        return exc.code
    except Exception as exc:  # a bug still gets one line, per the image contract
        print(f"{PROG}: error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return ExitCode.UNEXPECTED
