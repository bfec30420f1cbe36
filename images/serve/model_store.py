"""Fetch a trained model from file:// or s3://, resolve LATEST (conditionally), and verify its libraries and sha256."""

from __future__ import annotations

import hashlib
import importlib
import io
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

import joblib
from pydantic import BaseModel, ConfigDict, Field, field_validator

LATEST = "LATEST"
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
# A pickle loads only with the library versions that made it. scikit-learn and XGBoost
# support a pickled estimator only in the version that wrote it, so those must match
# exactly. numpy must match by major version: numpy 2's pickles name numpy._core, which
# numpy 1 lacks, and within a major an array's pickle stays readable. python, scipy and
# joblib are recorded but not compared: joblib reads its older files, the pickle protocol
# is the same across Python 3.8+, and scipy objects come through scikit-learn's pin.
EXACT_LIBRARIES = ("scikit-learn", "xgboost")
SAME_MAJOR_LIBRARIES = ("numpy",)
REQUIRED_LIBRARIES = ("scikit-learn", "numpy")  # every model this server unpickles uses both
IMPORT_NAMES = {"scikit-learn": "sklearn"}


class LoadError(Exception):
    """A model that must not be served: missing, unreadable or not the bytes that were trained."""


class FetchError(LoadError):
    """An object could not be read (missing, denied, storage unreachable): worth another try later,
    unlike a version whose own bytes are wrong, which stay wrong (a version is never rewritten)."""


class ModelMetadata(BaseModel):
    """The part of the training job's metadata.json that the server relies on."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description="model name, the folder under the output prefix")
    version: str = Field(description="version id written by the training job")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of model.joblib")
    features: list[str] = Field(default_factory=list, description="feature names, in column order")
    libraries: dict[str, str] = Field(default_factory=dict, description="library -> the version that made the model")
    created_at: datetime | None = Field(default=None, description="when the version was trained (UTC when no offset is given)")

    @field_validator("created_at")
    @classmethod
    def _utc_unless_given(cls, value: datetime | None) -> datetime | None:
        # The training contract records UTC; a trainer that leaves the offset out still means UTC.
        return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class Pointer:
    """The version MODEL_URI names now."""

    version_uri: str
    tag: str | None
    """LATEST's entity tag when it was read (S3's ETag, or a file's inode, mtime and size); None for a pinned version."""


@dataclass(frozen=True)
class LoadedModel:
    estimator: Any
    metadata: ModelMetadata
    n_features: int
    uri: str


def _read(uri: str) -> bytes:
    fetched = _read_if_changed(uri, None)
    assert fetched is not None  # with no tag to match, every read returns the object
    return fetched[0]


def _file_tag(path: Path) -> str:
    # A writer that replaces the file (as the trainer's rename does) changes the inode; one that
    # rewrites it in place changes the mtime.
    stat = path.stat()
    return f"{stat.st_ino}-{stat.st_mtime_ns}-{stat.st_size}"


def _read_if_changed(uri: str, if_none_match: str | None) -> tuple[bytes, str] | None:
    """The object and its entity tag; None if its tag is still if_none_match (for S3 a 304, no body sent)."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        path = Path(parsed.path)
        try:
            tag = _file_tag(path)
            return None if tag == if_none_match else (path.read_bytes(), tag)
        except OSError as exc:
            raise FetchError(f"cannot read {uri}: {exc.strerror}") from None
    if parsed.scheme == "s3":
        import boto3  # boto3 reads AWS_* and AWS_ENDPOINT_URL(_S3) itself
        from botocore.exceptions import BotoCoreError, ClientError

        conditions = {} if if_none_match is None else {"IfNoneMatch": if_none_match}
        try:
            response = boto3.client("s3").get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"), **conditions)
            return response["Body"].read(), response["ETag"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "304":
                return None
            raise FetchError(f"cannot read {uri}: {code}") from None
        except BotoCoreError as exc:
            raise FetchError(f"cannot read {uri}: {exc}") from None
    raise LoadError(f"unsupported MODEL_URI scheme {parsed.scheme!r}: {uri} (use s3:// or file://)")


def server_version(library: str) -> str | None:
    """This server's version of a library, or None if its image does not carry it.

    Imported only when a model names it, so a scikit-learn model's start never pays for XGBoost.
    """
    try:
        module = importlib.import_module(IMPORT_NAMES.get(library, library))
    except ImportError:
        return None
    return str(module.__version__)


def library_mismatches(recorded: Mapping[str, str]) -> list[str]:
    """Why this server can't unpickle a model made with ``recorded`` (empty if it can)."""
    problems = [f"{library} not recorded" for library in REQUIRED_LIBRARIES if library not in recorded]
    for library, made_with in recorded.items():
        if library not in EXACT_LIBRARIES + SAME_MAJOR_LIBRARIES:
            continue
        ours = server_version(library)
        if ours is None:
            problems.append(f"{library} {made_with} (this server has none)")
        elif ours != made_with and (library in EXACT_LIBRARIES or ours.split(".")[0] != made_with.split(".")[0]):
            problems.append(f"{library} {made_with} (this server has {ours})")
    return problems


def follows_latest(model_uri: str) -> bool:
    """``.../<model>/LATEST`` names the promoted version, which can change; anything else is one version folder."""
    return model_uri.rstrip("/").rsplit("/", 1)[-1] == LATEST


def resolve(model_uri: str, if_none_match: str | None = None) -> Pointer | None:
    """The version MODEL_URI names; None when LATEST's tag is still if_none_match (it names what it named)."""
    model_uri = model_uri.rstrip("/")
    if not follows_latest(model_uri):
        return Pointer(version_uri=model_uri, tag=None)
    fetched = _read_if_changed(model_uri, if_none_match)
    if fetched is None:
        return None
    content, tag = fetched
    version = content.decode(errors="replace").strip()
    if not version or "/" in version:
        raise LoadError(f"{model_uri} does not name a version: {version!r}")
    return Pointer(version_uri=f"{model_uri.rsplit('/', 1)[0]}/{version}", tag=tag)


def load_version(version_uri: str) -> LoadedModel:
    """Fetch and verify one version folder: FetchError if an object can't be read, LoadError if the version is bad."""
    metadata_bytes = _read(f"{version_uri}/{METADATA_FILE}")
    try:
        metadata = ModelMetadata.model_validate_json(metadata_bytes)
    except ValueError as exc:
        raise LoadError(f"invalid {version_uri}/{METADATA_FILE}: {exc}") from None
    # Checked before the model is even fetched: a pickle of other versions may load wrongly, not just fail.
    if problems := library_mismatches(metadata.libraries):
        raise LoadError(
            f"library mismatch for {version_uri}: {', '.join(problems)}; a pickle loads only with the versions "
            "it was made with: serve it from a server image with those, or retrain it with this one's"
        )
    model_bytes = _read(f"{version_uri}/{MODEL_FILE}")
    actual = hashlib.sha256(model_bytes).hexdigest()
    # Checked before unpickling: bytes that are not the ones trained are never executed.
    if actual != metadata.sha256:
        raise LoadError(f"sha256 mismatch for {version_uri}/{MODEL_FILE}: metadata says {metadata.sha256}, got {actual}")
    try:
        estimator = joblib.load(io.BytesIO(model_bytes))
    except Exception as exc:  # verified bytes that still won't unpickle, e.g. a library mismatch
        raise LoadError(f"cannot unpickle {version_uri}/{MODEL_FILE}: {type(exc).__name__}: {exc}") from None
    n_features = getattr(estimator, "n_features_in_", None)
    if not isinstance(n_features, int) or not hasattr(estimator, "predict"):
        raise LoadError(f"{version_uri}/{MODEL_FILE} is not a fitted predictor with the scikit-learn API")
    return LoadedModel(estimator=estimator, metadata=metadata, n_features=n_features, uri=version_uri)
