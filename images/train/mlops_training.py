"""The training contract as a library: command line, storage, versions, metadata, promotion, exit codes.

Every training entry point of the platform (the built-in ``train.py`` beside this file,
and any project's own) takes

    --data URI --model NAME --output URI [--min-accuracy X] [--param NAME=VALUE ...] [--no-promote]
    [--seed N] [--run-id ID] [--baseline VERSION] [--reproduces VERSION]

and writes ``<output>/<model>/<version>/model.joblib``, then ``metadata.json``, then, if
the gate passes and ``--no-promote`` is not given, ``<output>/<model>/LATEST``. With
``--baseline``, the stored version it names is scored on this run's held-out split
(``Trained.score``) and recorded beside the new one's metrics. A project
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
from urllib.parse import parse_qs, urlparse

LATEST = "LATEST"
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
PROG = "train"
# The platform tells each run the image it runs, `<registry>/<repository>@sha256:<digest>`
# (components/training_command.py names the same variable); unset outside a job.
IMAGE_ENV = "MLOPS_TRAINING_IMAGE"
# Distribution names for the modules whose import name differs, as the server compares them.
DISTRIBUTION_NAMES = {"sklearn": "scikit-learn"}
# What a pickle needs to load as it was made, as the server (images/serve/model_store.py) checks
# it: scikit-learn and xgboost exactly, numpy by major version.
EXACT_LIBRARIES = ("scikit-learn", "xgboost")
SAME_MAJOR_LIBRARIES = ("numpy",)
VERSION_QUERY = "versionId"
MAX_SEED = 2**32 - 1  # numpy's RandomState, which scikit-learn seeds, takes 0 to 2**32 - 1


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


def _s3_error(exc: Exception, uri: str, what: str, version_id: str | None = None) -> TrainError:
    """Turn a botocore failure into the reason a person needs, without a traceback."""
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        # S3 answers NoSuchVersion for an id it doesn't hold and InvalidArgument for one it can't parse.
        if version_id is not None and code in {"NoSuchVersion", "InvalidArgument"}:
            reason = f"{what} not found: no version {version_id} of {uri.partition('?')[0]} ({code})"
            return TrainError(ExitCode.DATA_NOT_FOUND, reason)
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


def split_version_id(uri: str) -> tuple[str, str | None]:
    """``s3://b/k?versionId=V`` -> (``s3://b/k``, V); a URI without a query -> (uri, None).

    Raises ValueError with a one-line reason for any other query, or a version id on
    anything but ``s3://`` (a file or a builtin data set has no object versions).
    """
    parsed = urlparse(uri)
    if not parsed.query:
        return uri, None
    base = uri.partition("?")[0]
    query = parse_qs(parsed.query, keep_blank_values=True)
    values = query.get(VERSION_QUERY, [])
    if set(query) != {VERSION_QUERY} or len(values) != 1 or not values[0]:
        raise ValueError(f"{uri}: the only query a data URI takes is ?{VERSION_QUERY}=<id>")
    if parsed.scheme != "s3":
        raise ValueError(f"{uri}: ?{VERSION_QUERY} is for s3:// URIs only")
    return base, values[0]


def read_object(uri: str, what: str = "data") -> tuple[bytes, dict[str, str]]:
    """Return an object's bytes and what identifies that exact version of it.

    ``s3://bucket/key?versionId=<id>`` reads that version of the object (GetObject's
    VersionId), not the current one; ``what`` names the object in a reason.
    """
    try:
        base, version_id = split_version_id(uri)
    except ValueError as exc:
        raise TrainError(ExitCode.USAGE, str(exc)) from None
    scheme = urlparse(base).scheme
    if scheme == "s3":
        from botocore.exceptions import BotoCoreError, ClientError

        bucket, key = _split_s3(base)
        pinned = {} if version_id is None else {"VersionId": version_id}
        try:
            response = _s3_client().get_object(Bucket=bucket, Key=key, **pinned)
            body: bytes = response["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise _s3_error(exc, uri, what, version_id) from None
        version = {"etag": str(response.get("ETag", "")).strip('"')}
        if response.get("VersionId"):
            version["version_id"] = str(response["VersionId"])
        return body, version
    if scheme == "file":
        path = Path(urlparse(uri).path)
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            raise TrainError(ExitCode.DATA_NOT_FOUND, f"{what} not found: {uri}") from None
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
    parser.add_argument("--seed", type=int, default=42, help="seed for the split and the estimator (default 42)")
    parser.add_argument("--run-id", default=None, metavar="ID", help="the run that asked for this version (recorded as run_id)")
    parser.add_argument(
        "--baseline", default=None, metavar="VERSION", help="a stored version to score on this run's held-out split (recorded)"
    )
    parser.add_argument("--reproduces", default=None, metavar="VERSION", help="the version this run reproduces (recorded)")
    return parser


def parse_contract(parser: OneLineParser, params: Mapping[str, Param], argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and check the command line; ``args.params`` holds every hyperparameter's value."""
    args = parser.parse_args(argv)
    if not args.model or "/" in args.model:
        parser.error(f"--model must be a non-empty name without '/': {args.model!r}")
    for flag, version in (("--baseline", args.baseline), ("--reproduces", args.reproduces)):
        if version is not None and (not version or "/" in version or version in {".", "..", LATEST}):
            parser.error(f"{flag} must name a version (a folder under --output/--model): {version!r}")
    if args.run_id == "":
        parser.error("--run-id must not be empty")
    if not 0 <= args.seed <= MAX_SEED:
        parser.error(f"--seed must be an integer from 0 to {MAX_SEED}: {args.seed}")
    try:
        split_version_id(args.data)
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
    # The metrics of any estimator on this run's held-out split, the same function that gave
    # `metrics` its scores: --baseline scores the stored version with it. None: no baseline.
    score: Callable[[Any], dict[str, float | int]] | None = None


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


class Unscorable(Exception):
    """Why a --baseline version can't be scored here: recorded in metadata.json, never a failed run."""


def _first_difference(what: str, baseline: str, theirs: list[Any], ours: list[Any]) -> str | None:
    if theirs == ours:
        return None
    if len(theirs) != len(ours):
        return f"{what} differ: {baseline} has {len(theirs)}, this run {len(ours)}"
    index = next(i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b)
    return f"{what} differ: {baseline} has {theirs[index]!r} where this run has {ours[index]!r}"


def _library_mismatches(recorded: Mapping[str, str], ours: Mapping[str, str]) -> list[str]:
    problems = []
    for library in (name for name in EXACT_LIBRARIES + SAME_MAJOR_LIBRARIES if name in recorded):
        made_with, have = recorded[library], ours.get(library)
        if have is None or (have != made_with and (library in EXACT_LIBRARIES or have.split(".")[0] != made_with.split(".")[0])):
            problems.append(f"{library} {made_with} (this run has {have or 'none'})")
    return problems


def _read_baseline(uri: str) -> bytes:
    try:
        return read_object(uri, what="baseline")[0]
    except TrainError as exc:
        raise Unscorable(exc.reason) from None


def _load_baseline(trained: Trained, version_uri: str) -> Any:
    """A stored version's estimator, once it is known to be the trained bytes and to fit this run's data."""
    import joblib

    name = version_uri.rsplit("/", 1)[-1]
    try:
        metadata = json.loads(_read_baseline(f"{version_uri}/{METADATA_FILE}"))
        recorded_sha256 = str(metadata["sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        raise Unscorable(f"invalid {version_uri}/{METADATA_FILE}: {type(exc).__name__}: {exc}") from None
    # Checked before the model is read: a pickle of other versions may load wrongly, not just fail.
    if problems := _library_mismatches(metadata.get("libraries", {}), trained.libraries):
        raise Unscorable(f"library mismatch for {version_uri}: {', '.join(problems)}")
    for what, ours in (("features", trained.features), ("classes", trained.classes)):
        # Through JSON, so this run's values compare as the baseline's were recorded.
        if difference := _first_difference(what, name, list(metadata.get(what) or []), json.loads(json.dumps(ours))):
            raise Unscorable(difference)
    model_bytes = _read_baseline(f"{version_uri}/{MODEL_FILE}")
    actual = hashlib.sha256(model_bytes).hexdigest()
    # Checked before unpickling: bytes that are not the ones trained are never executed.
    if actual != recorded_sha256:
        raise Unscorable(f"sha256 mismatch for {version_uri}/{MODEL_FILE}: metadata says {recorded_sha256}, got {actual}")
    try:
        return joblib.load(io.BytesIO(model_bytes))
    except Exception as exc:  # verified bytes that still won't unpickle here
        raise Unscorable(f"cannot unpickle {version_uri}/{MODEL_FILE}: {type(exc).__name__}: {exc}") from None


def baseline_result(trained: Trained, model_root: str, baseline: str | None) -> dict[str, Any] | None:
    """metadata.json's ``baseline``: that version's metrics on this run's held-out split, or why it has none.

    A baseline that can't be scored never fails the run: the pipeline's evaluate step reads the error.
    """
    if baseline is None:
        return None
    version_uri = f"{model_root}/{baseline}"
    try:
        if trained.score is None:
            raise Unscorable("this trainer gives no scorer (Trained.score)")
        estimator = _load_baseline(trained, version_uri)
        try:
            metrics = trained.score(estimator)
        except Exception as exc:
            raise Unscorable(f"cannot score {version_uri}: {type(exc).__name__}: {exc}") from None
    except Unscorable as exc:
        reason = " ".join(str(exc).split())  # one line, whatever a library's message holds
        print(f"{PROG}: baseline {baseline} not scored: {reason}")
        return {"version": baseline, "error": reason}
    print(f"{PROG}: baseline {baseline}: accuracy {metrics['accuracy']:.4f} on this run's held-out split")
    return {"version": baseline, "metrics": metrics}


def metadata_for(
    trained: Trained, args: argparse.Namespace, version: str, sha256: str, now: datetime, baseline: dict[str, Any] | None
) -> dict[str, Any]:
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
        "baseline": baseline,  # None without --baseline; else {"version", "metrics"} or {"version", "error"}
        "run_id": args.run_id,
        "reproduces": args.reproduces,
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
    model_root = f"{args.output.rstrip('/')}/{args.model}"
    metadata = metadata_for(trained, args, version, sha256, now, baseline_result(trained, model_root, args.baseline))
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
