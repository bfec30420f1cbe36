"""scripts/restore.py, run for real against S3 on loopback (moto's ThreadedMotoServer)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from offline.engine import ROOT
from tests.loopback import Moto

RESTORE = ROOT / "scripts" / "restore.py"
KEY = "datasets/iris.csv"


def restore(moto: Moto, bucket: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RESTORE), "--bucket", bucket, *args],
        env=moto.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def current(moto: Moto, bucket: str) -> tuple[str, bytes]:
    answer = moto.client("s3").get_object(Bucket=bucket, Key=KEY)
    return answer["VersionId"], answer["Body"].read()


def test_an_overwritten_object_gets_its_previous_content_back(moto: Moto, bucket: str) -> None:
    s3 = moto.client("s3")
    s3.put_object(Bucket=bucket, Key=KEY, Body=b"older")
    good = s3.put_object(Bucket=bucket, Key=KEY, Body=b"good")["VersionId"]
    bad = s3.put_object(Bucket=bucket, Key=KEY, Body=b"bad")["VersionId"]
    result = restore(moto, bucket, KEY)
    assert result.returncode == 0, result.stderr
    version, body = current(moto, bucket)
    assert body == b"good"
    # A new version on top: the bad one is kept, so the restore itself can be undone.
    assert version not in (good, bad)
    assert result.stdout.splitlines()[-1] == (
        f"copied version {good} over the current one: s3://{bucket}/{KEY} is now version {version} with its content"
    )


def test_a_deleted_object_comes_back_when_its_delete_marker_is_removed(moto: Moto, bucket: str) -> None:
    s3 = moto.client("s3")
    good = s3.put_object(Bucket=bucket, Key=KEY, Body=b"good")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key=KEY)["VersionId"]
    result = restore(moto, bucket, KEY)
    assert result.returncode == 0, result.stderr
    assert current(moto, bucket) == (good, b"good")
    assert result.stdout.splitlines()[-1] == f"removed delete marker {marker}: s3://{bucket}/{KEY} is version {good} again"


def test_a_chosen_version_is_restored(moto: Moto, bucket: str) -> None:
    s3 = moto.client("s3")
    first = s3.put_object(Bucket=bucket, Key=KEY, Body=b"first")["VersionId"]
    s3.put_object(Bucket=bucket, Key=KEY, Body=b"second")
    s3.put_object(Bucket=bucket, Key=KEY, Body=b"third")
    result = restore(moto, bucket, KEY, "--version-id", first)
    assert result.returncode == 0, result.stderr
    assert current(moto, bucket)[1] == b"first"


def test_the_versions_are_listed_newest_first(moto: Moto, bucket: str) -> None:
    s3 = moto.client("s3")
    old = s3.put_object(Bucket=bucket, Key=KEY, Body=b"old")["VersionId"]
    new = s3.put_object(Bucket=bucket, Key=KEY, Body=b"newer")["VersionId"]
    s3.put_object(Bucket=bucket, Key=KEY + ".bak", Body=b"another key")  # shares the prefix: not listed
    lines = restore(moto, bucket, KEY).stdout.splitlines()
    assert lines[0] == f"versions of s3://{bucket}/{KEY}, newest first:"
    assert [line.split()[0] for line in lines[1:3]] == [new, old]
    assert lines[1].endswith("5 bytes  (current)") and lines[2].endswith("3 bytes")
    assert len(lines) == 4


@pytest.mark.parametrize(
    ("history", "reason"),
    [
        pytest.param(["put"], "has no earlier version to restore: {current} is the only one", id="one-version"),
        pytest.param([], "has no versions: nothing by that key was ever stored (check the key and --bucket)", id="never-stored"),
    ],
)
def test_nothing_earlier_is_refused_in_one_line(moto: Moto, bucket: str, history: list[str], reason: str) -> None:
    s3 = moto.client("s3")
    only = s3.put_object(Bucket=bucket, Key=KEY, Body=b"only")["VersionId"] if history else ""
    result = restore(moto, bucket, KEY)
    assert result.returncode == 1
    assert result.stderr == f"restore: refused: s3://{bucket}/{KEY} {reason.format(current=only)}\n"
    if history:
        assert current(moto, bucket) == (only, b"only"), "nothing changed"


def test_a_deleted_object_without_an_earlier_version_is_refused(moto: Moto, bucket: str) -> None:
    s3 = moto.client("s3")
    only = s3.put_object(Bucket=bucket, Key=KEY, Body=b"x")["VersionId"]
    s3.delete_object(Bucket=bucket, Key=KEY)
    # The version under the marker is gone too, as after noncurrentVersionDays: only the marker remains.
    s3.delete_object(Bucket=bucket, Key=KEY, VersionId=only)
    result = restore(moto, bucket, KEY)
    assert result.returncode == 1
    assert result.stderr == f"restore: refused: s3://{bucket}/{KEY} is deleted and has no earlier version to restore\n"


def test_an_unknown_version_is_refused(moto: Moto, bucket: str) -> None:
    s3 = moto.client("s3")
    s3.put_object(Bucket=bucket, Key=KEY, Body=b"a")
    s3.put_object(Bucket=bucket, Key=KEY, Body=b"b")
    result = restore(moto, bucket, KEY, "--version-id", "nope")
    assert result.returncode == 1
    assert result.stderr == f"restore: refused: s3://{bucket}/{KEY} has no version nope\n"
    assert current(moto, bucket)[1] == b"b"
