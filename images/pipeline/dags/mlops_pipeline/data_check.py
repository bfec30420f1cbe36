"""validate_data's check of a run's data: the object exists, and its shape, rows and label are sane.

The same reading as the built-in trainer's: a CSV with a header row, numeric feature columns and
a label column (`target` or `label`, else the last). The check reads one version of the object
and names it, so train reads exactly the bytes that were checked.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from mlops_pipeline.errors import Refused

MIN_ROWS = 20
"""Fewer data rows leave the held-out split (a fifth) too small to compare two versions on."""
LABELS = ("target", "label")


@dataclass(frozen=True)
class CheckedData:
    uri: str  # s3://bucket/key, or builtin:<name>
    version_id: str | None  # the S3 version read; None for builtin data or an unversioned bucket
    rows: int | None
    label: str | None
    classes: int | None


def split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def check_data(s3: Any, uri: str, version_id: str | None) -> CheckedData:
    """Read the object (that version, if given) and check it; builtin data ships with the trainer."""
    if uri.startswith("builtin:"):
        if version_id is not None:
            raise Refused(f"data_version {version_id!r} is for s3:// data, not {uri}")
        return CheckedData(uri, None, None, None, None)
    bucket, key = split_s3(uri)
    response = get_object(s3, bucket, key, version_id, uri)
    rows, label, classes = check_csv(lines(response["Body"]), uri)
    found = response.get("VersionId")
    return CheckedData(uri, found if found and found != "null" else None, rows, label, classes)


def version_at(s3: Any, uri: str, at: datetime) -> str | None:
    """The version of an s3:// object that was current at `at` (a run's data interval end), so a
    run cleared or retried days later trains on the data of its own interval, not today's.

    None for builtin data, an unversioned bucket, or an object first written after `at` (then the
    run reads what is there now, and records that version).
    """
    if not uri.startswith("s3://"):
        return None
    bucket, key = split_s3(uri)
    listed = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key)
    entries = [
        (entry["LastModified"], entry.get("VersionId"), kind == "Versions")
        for page in listed
        for kind in ("Versions", "DeleteMarkers")
        for entry in page.get(kind) or []
        if entry["Key"] == key and entry["LastModified"] <= at
    ]
    if not entries:
        return None
    _, version_id, is_version = max(entries, key=lambda entry: entry[0])
    if not is_version:
        raise Refused(f"{uri} was deleted at the end of this run's data interval ({at.isoformat()})")
    return version_id if version_id and version_id != "null" else None


def get_object(s3: Any, bucket: str, key: str, version_id: str | None, uri: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        return s3.get_object(Bucket=bucket, Key=key, **({"VersionId": version_id} if version_id else {}))
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in {"NoSuchVersion", "InvalidArgument"} and version_id:
            raise Refused(
                f"version {version_id} of {uri} does not exist: a superseded version is deleted "
                "storage.noncurrentVersionDays after it was replaced"
            ) from None
        if code in {"NoSuchKey", "NoSuchBucket", "404"}:
            raise Refused(f"data not found: {uri}") from None
        if code in {"AccessDenied", "403"}:
            raise Refused(f"access denied reading {uri}: the pipeline's role reads the projects' data") from None
        raise  # anything else (throttling, a 5xx) is worth a retry


def lines(body: Any) -> Iterator[str]:
    yield from codecs.iterdecode(body.iter_lines(keepends=True), "utf-8-sig")


def check_csv(text: Iterator[str], uri: str) -> tuple[int, str, int]:
    """(rows, label column, classes); Refused with the first problem found."""
    reader = csv.reader(text)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise Refused(f"{uri} is empty: a CSV needs a header row and data rows") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise Refused(f"{uri} is not a readable CSV: {exc}") from None
    label = next((name for name in LABELS if name in header), header[-1])
    if len(header) < 2:
        raise Refused(f"{uri} has no feature column beside its label {label!r} (header: {', '.join(header)})")
    label_index = header.index(label)
    classes: set[str] = set()
    rows = 0
    try:
        for line_number, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise Refused(f"{uri} line {line_number} has {len(row)} fields; the header has {len(header)}")
            for index, value in enumerate(row):
                if index != label_index and not is_number(value):
                    raise Refused(f"{uri} line {line_number}: feature {header[index]!r} is not a number: {value!r}")
            classes.add(row[label_index].strip())
            rows += 1
    except (UnicodeDecodeError, csv.Error) as exc:
        raise Refused(f"{uri} is not a readable CSV: {exc}") from None
    if rows < MIN_ROWS:
        raise Refused(f"{uri} has {rows} data rows; training needs at least {MIN_ROWS}")
    if len(classes) < 2:
        raise Refused(f"{uri}: label {label!r} has {len(classes)} class(es); a classifier needs at least 2")
    return rows, label, len(classes)


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
