"""Restore an object of the (versioned) data bucket from an earlier version.

    python scripts/restore.py --bucket BUCKET KEY [--version-id VERSION] [--region REGION]

It lists the key's versions, newest first, then:
- if the key is deleted (its current version is a delete marker), removes that marker,
  so the version under it is current again;
- else copies the chosen version (default: the newest earlier one) over the current
  one, as a new version: nothing is overwritten, so a restore can be undone the same way.
It prints what it did, and refuses (exit 1, one line) when there is no earlier version.
AWS credentials and region come from the environment, as for the AWS CLI.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError


@dataclass(frozen=True)
class Version:
    id: str
    modified: datetime
    latest: bool
    delete_marker: bool
    size: int | None

    def describe(self) -> str:
        what = "delete marker" if self.delete_marker else f"{self.size} bytes"
        return f"{self.id}  {self.modified:%Y-%m-%d %H:%M:%S}  {what}{'  (current)' if self.latest else ''}"


class Refused(Exception):
    """Nothing to restore, or not this way: the one line to print."""


def versions(s3: Any, bucket: str, key: str) -> list[Version]:
    """Every version and delete marker of exactly `key` (not of keys it prefixes), newest first."""
    found: list[Version] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        for entry in page.get("Versions", []):
            if entry["Key"] == key:
                found.append(Version(entry["VersionId"], entry["LastModified"], entry["IsLatest"], False, entry["Size"]))
        for entry in page.get("DeleteMarkers", []):
            if entry["Key"] == key:
                found.append(Version(entry["VersionId"], entry["LastModified"], entry["IsLatest"], True, None))
    # The current one first, then by time (S3 lists a key's versions newest first already).
    return sorted(found, key=lambda v: (v.latest, v.modified), reverse=True)


def restore(s3: Any, bucket: str, key: str, version_id: str | None) -> str:
    """Do the restore; return what was done, as one line."""
    where = f"s3://{bucket}/{key}"
    history = versions(s3, bucket, key)
    if not history:
        raise Refused(f"{where} has no versions: nothing by that key was ever stored (check the key and --bucket)")
    if history[0].id == "null":
        raise Refused(f"{where} was stored before versioning was on: it has no earlier version")
    print(f"versions of {where}, newest first:")
    for version in history:
        print(f"  {version.describe()}")
    current, earlier = history[0], [v for v in history[1:] if not v.delete_marker]
    if version_id is None and current.delete_marker:
        if not earlier:
            raise Refused(f"{where} is deleted and has no earlier version to restore")
        s3.delete_object(Bucket=bucket, Key=key, VersionId=current.id)
        return f"removed delete marker {current.id}: {where} is version {earlier[0].id} again"
    if version_id is None:
        if not earlier:
            raise Refused(f"{where} has no earlier version to restore: {current.id} is the only one")
        chosen = earlier[0]
    else:
        chosen = next((v for v in history if v.id == version_id), None)
        if chosen is None:
            raise Refused(f"{where} has no version {version_id}")
        if chosen.delete_marker:
            raise Refused(f"{version_id} is a delete marker of {where}, not content to restore")
        if chosen.latest:
            raise Refused(f"{version_id} is already the current version of {where}")
    # A managed copy: multipart for objects over 5 GB, which a single CopyObject refuses.
    s3.copy({"Bucket": bucket, "Key": key, "VersionId": chosen.id}, bucket, key)
    now = versions(s3, bucket, key)[0]
    return f"copied version {chosen.id} over the current one: {where} is now version {now.id} with its content"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="restore", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("key", help="the object's key, e.g. datasets/iris.csv")
    parser.add_argument("--bucket", required=True, help="the bucket: `pulumi stack output bucketName`")
    parser.add_argument("--version-id", help="the version to restore (default: the newest earlier one)")
    parser.add_argument("--region", help="the bucket's region (default: from the environment)")
    args = parser.parse_args(argv)
    s3 = boto3.client("s3", region_name=args.region)
    try:
        print(restore(s3, args.bucket, args.key, args.version_id))
    except Refused as refusal:
        print(f"restore: refused: {refusal}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as error:
        print(f"restore: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
