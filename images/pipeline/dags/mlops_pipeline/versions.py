"""A project's stored versions in the bucket: LATEST, each version's metadata.json, and promotion.

    s3://<bucket>/models/<project>/LATEST                 one line: the promoted version
    s3://<bucket>/models/<project>/<version>/metadata.json what the trainer recorded
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mlops_pipeline.errors import Refused

LATEST = "LATEST"
METADATA = "metadata.json"
SCAN_LIMIT = 100
"""How many of the newest versions evaluate reads to find its run's: a run's version is among the
newest (ids sort by time), so this bounds the reads however many versions a project keeps."""


@dataclass(frozen=True)
class Latest:
    version: str | None  # None: nothing promoted yet
    etag: str | None


def models_prefix(project: str) -> str:
    return f"models/{project}/"


def _missing(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(exc, ClientError) and str(exc.response.get("Error", {}).get("Code", "")) in {"NoSuchKey", "404"}


def read_latest(s3: Any, bucket: str, project: str) -> Latest:
    try:
        response = s3.get_object(Bucket=bucket, Key=f"{models_prefix(project)}{LATEST}")
    except Exception as exc:
        if _missing(exc):
            return Latest(None, None)
        raise
    version = response["Body"].read().decode().strip()
    return Latest(version or None, str(response["ETag"]))


def read_metadata(s3: Any, bucket: str, project: str, version: str) -> dict[str, Any] | None:
    try:
        response = s3.get_object(Bucket=bucket, Key=f"{models_prefix(project)}{version}/{METADATA}")
    except Exception as exc:
        if _missing(exc):
            return None
        raise
    return json.loads(response["Body"].read())


def stored_versions(s3: Any, bucket: str, project: str) -> list[str]:
    """Every version folder under models/<project>/, newest first."""
    prefix = models_prefix(project)
    versions: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        versions += [entry["Prefix"][len(prefix) :].rstrip("/") for entry in page.get("CommonPrefixes", [])]
    return sorted(versions, reverse=True)


def version_of_run(s3: Any, bucket: str, project: str, run_id: str) -> dict[str, Any]:
    """The metadata of the version this run stored (the trainer records --run-id as run_id)."""
    for version in stored_versions(s3, bucket, project)[:SCAN_LIMIT]:
        metadata = read_metadata(s3, bucket, project, version)
        if metadata is not None and metadata.get("run_id") == run_id:
            return metadata
    raise Refused(
        f"no version under s3://{bucket}/{models_prefix(project)} records run id {run_id!r}: "
        "the train task stored none (see its log)"
    )


def promote(s3: Any, bucket: str, project: str, version: str, *, expected: str | None) -> str:
    """Point LATEST at `version`, unless it already does, or it moved from `expected` since train started.

    The write is conditional on LATEST's ETag (or on its absence), so a promotion racing this
    one (another run, `make rollback`) is refused rather than overwritten.
    """
    from botocore.exceptions import ClientError

    latest = read_latest(s3, bucket, project)
    if latest.version == version:
        return f"LATEST already names {version}: nothing to do"
    if latest.version != expected:
        raise Refused(
            f"LATEST moved from {expected or 'nothing'} to {latest.version or 'nothing'} since this run's train "
            f"started; {version} was evaluated against {expected or 'nothing'}, so it is not promoted. "
            "Start a new run to evaluate against what is served now"
        )
    condition = {"IfMatch": latest.etag} if latest.etag else {"IfNoneMatch": "*"}
    try:
        s3.put_object(Bucket=bucket, Key=f"{models_prefix(project)}{LATEST}", Body=f"{version}\n".encode(), **condition)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in {"PreconditionFailed", "ConditionalRequestConflict"}:
            raise Refused(f"LATEST changed while {version} was being promoted; not promoted: start a new run") from None
        raise
    return f"promoted {version} (LATEST named {expected or 'nothing'})"
