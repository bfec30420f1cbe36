"""Point a project's LATEST back at an earlier promoted version; its servers follow.

    python scripts/rollback.py --stack STACK --project NAME [--version ID]
    python scripts/rollback.py --bucket BUCKET --project NAME [--version ID]

`make rollback STACK=<stack> PROJECT=<name> [VERSION=<id>]` runs the first form, which
reads the bucket from `pulumi stack output bucketName`. Without --version it takes the
previously promoted version: the newest earlier content of LATEST (the bucket is
versioned) that names another version than the current one. So a second rollback
undoes the first; --version reaches further back. It checks that the version's
model.joblib and metadata.json exist and that the metadata's sha256 is the model's, then
writes LATEST as the trainer does (mlops_training.promote). It prints LATEST before and
after, or refuses in one line (exit 1) and leaves LATEST as it was. AWS credentials and
region come from the environment, as for the AWS CLI.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from restore import Version, versions

# The training contract module writes LATEST; it lives with the trainer, as in its image.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "images" / "train"))
import mlops_training

POLL_SECONDS = 30  # the server's MODEL_POLL_SECONDS default (images/serve/app.py)
# LATEST's history is its superseded versions, which the bucket's lifecycle expires.
KEPT = "an earlier LATEST is kept storage.noncurrentVersionDays days after it was replaced"


class Refused(Exception):
    """Not rolled back: the one line to print."""


def stack_bucket(stack: str) -> str:
    """The stack's data bucket, as `pulumi stack output` has it."""
    try:
        done = subprocess.run(
            ["pulumi", "stack", "output", "bucketName", "-s", stack], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise Refused("the pulumi CLI is not on PATH: install it, or give the bucket with --bucket") from None
    if done.returncode != 0 or not done.stdout.strip():
        reason = (done.stderr.strip().splitlines() or ["no bucketName output"])[-1]
        raise Refused(f"cannot read stack {stack}'s bucketName: {reason}")
    return done.stdout.strip()


def read(s3: Any, bucket: str, key: str, version_id: str | None = None) -> bytes | None:
    """An object's bytes (a given version of it), or None if there is no such object."""
    extra = {"VersionId": version_id} if version_id else {}
    try:
        return s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NoSuchVersion"}:
            return None
        raise


def named(content: bytes | None) -> str | None:
    """The version a LATEST object names, as the server reads it."""
    return None if content is None else content.decode(errors="replace").strip()


def previous_version(s3: Any, bucket: str, key: str, history: list[Version], current: str | None) -> str:
    """The newest earlier LATEST content that names another version than the current one."""
    for earlier in history[1:]:
        if not earlier.delete_marker and (version := named(read(s3, bucket, key, earlier.id))) and version != current:
            return version
    raise Refused(
        f"nothing to roll back to: no earlier s3://{bucket}/{key} names another version than {current} "
        f"({KEPT}; name a version folder with --version, VERSION= with make)"
    )


def stored(s3: Any, bucket: str, folder: str, name: str) -> bytes:
    """One object of a version folder; refused when it is not there."""
    body = read(s3, bucket, f"{folder}/{name}")
    if body is None:
        raise Refused(
            f"s3://{bucket}/{folder}/{name} does not exist: that version is not there to serve "
            "(a version folder is never overwritten, so it stays until someone deletes it)"
        )
    return body


def parsed(where: str, body: bytes) -> dict[str, Any]:
    """metadata.json as a dict; refused when it is not a JSON object."""
    try:
        metadata = json.loads(body)
    except ValueError:
        metadata = None
    if not isinstance(metadata, dict):
        raise Refused(f"{where} is not a JSON object")
    return metadata


def check_version(s3: Any, bucket: str, project: str, version: str) -> str:
    """Refuse a version the servers would not load, or one below its gate; return its model's sha256."""
    if not version or "/" in version or version != version.strip():
        raise Refused(f"{version!r} is not a version id (a folder name under models/{project}/)")
    folder = f"models/{project}/{version}"
    model_bytes = stored(s3, bucket, folder, mlops_training.MODEL_FILE)
    metadata = parsed(f"s3://{bucket}/{folder}/{mlops_training.METADATA_FILE}", stored(s3, bucket, folder, mlops_training.METADATA_FILE))
    gate = metadata.get("gate") or {}
    if gate.get("passed") is False:  # stored below the gate: never fit to serve
        accuracy = (metadata.get("metrics") or {}).get("accuracy", float("nan"))
        raise Refused(
            f"version {version} is below its accuracy gate (accuracy {accuracy:.4f} < {gate.get('min_accuracy')}): "
            "it was never fit to promote"
        )
    actual = hashlib.sha256(model_bytes).hexdigest()
    if metadata.get("sha256") != actual:
        raise Refused(
            f"sha256 mismatch for s3://{bucket}/{folder}/{mlops_training.MODEL_FILE}: "
            f"metadata says {metadata.get('sha256')}, the model is {actual}; the servers would refuse it"
        )
    return actual


def rollback(s3: Any, bucket: str, project: str, version: str | None) -> tuple[str | None, str, str]:
    """Move LATEST; return what it named before, what it names now, and that model's sha256."""
    key = f"models/{project}/{mlops_training.LATEST}"
    history = versions(s3, bucket, key)
    if not history:
        raise Refused(f"s3://{bucket}/{key} does not exist: {project} was never promoted (check --project and the bucket)")
    current = None if history[0].delete_marker else named(read(s3, bucket, key, history[0].id))
    if version is None:
        if current is None:
            raise Refused(f"s3://{bucket}/{key} is deleted: name the version to serve with --version (VERSION= with make)")
        version = previous_version(s3, bucket, key, history, current)
    elif version == current:
        raise Refused(f"LATEST already names {version}")
    sha256 = check_version(s3, bucket, project, version)
    mlops_training.promote(f"s3://{bucket}/models/{project}", version)
    return current, version, sha256


def report(project: str, bucket: str, stack: str | None, before: str | None, after: str, sha256: str) -> str:
    target = stack or "<stack>"
    return "\n".join(
        [
            f"rolled back {project} in s3://{bucket}/models/{project}/",
            f"  LATEST was: {before or '(deleted)'}",
            f"  LATEST now: {after} (model.joblib sha256 {sha256[:16]}..., as its metadata.json records)",
            f"The servers that follow LATEST load it within MODEL_POLL_SECONDS ({POLL_SECONDS} s by default). To switch one now:",
            f"  $(pulumi stack output -s {target} projects --json | jq -r .{project}.portForwardCommand) &",
            f"  curl -s -X POST http://127.0.0.1:8080/v2/repository/models/{project}/load",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rollback", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", required=True, help="the project (its models/<project>/ folder)")
    parser.add_argument("--stack", help="the Pulumi stack whose bucketName output is the bucket")
    parser.add_argument("--bucket", help="the data bucket, instead of asking Pulumi")
    parser.add_argument("--version", help="the version to serve (default: the previously promoted one)")
    args = parser.parse_args(argv)
    if not args.stack and not args.bucket:
        parser.error("name the stack (--stack) or the bucket (--bucket)")
    try:
        bucket = args.bucket or stack_bucket(args.stack)
        before, after, sha256 = rollback(boto3.client("s3"), bucket, args.project, args.version)
    except Refused as refusal:
        print(f"rollback: refused: {refusal}", file=sys.stderr)
        return 1
    except mlops_training.TrainError as error:
        print(f"rollback: error: {error.reason}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as error:
        print(f"rollback: error: {error}", file=sys.stderr)
        return 2
    print(report(args.project, bucket, args.stack, before, after, sha256))
    return 0


if __name__ == "__main__":
    sys.exit(main())
