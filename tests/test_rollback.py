"""scripts/rollback.py, run for real against S3 on loopback (moto), on versions the real trainer promoted."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from offline.engine import ROOT
from tests.loopback import Moto, base_env

ROLLBACK = ROOT / "scripts" / "rollback.py"
TRAIN = ROOT / "images" / "train" / "train.py"
LATEST = "models/iris/LATEST"


def train(env: dict[str, str], output: str, c: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TRAIN), "--data", "builtin:iris", "--model", "iris", "--output", output, "--param", f"C={c}"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@dataclass(frozen=True)
class Trained:
    """Two versions the real trainer wrote to a folder: uploaded to a test's bucket as promotions."""

    folder: Path
    first: str
    second: str

    def publish(self, moto: Moto, bucket: str, version: str) -> None:
        s3 = moto.client("s3")
        for name in ("model.joblib", "metadata.json"):
            s3.put_object(Bucket=bucket, Key=f"models/iris/{version}/{name}", Body=(self.folder / version / name).read_bytes())


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    output = tmp_path_factory.mktemp("models")
    ids = []
    for c in ("1.0", "0.5"):
        result = train(base_env(), output.as_uri(), c)
        assert result.returncode == 0, result.stderr
        ids.append((output / "iris" / "LATEST").read_text().strip())
    return Trained(output / "iris", *ids)


def promote(moto: Moto, bucket: str, version: str) -> None:
    """Write LATEST as the trainer does: one line naming the version."""
    moto.client("s3").put_object(Bucket=bucket, Key=LATEST, Body=f"{version}\n".encode())


def promoted(moto: Moto, bucket: str, trained: Trained, *versions: str) -> None:
    for version in versions:
        trained.publish(moto, bucket, version)
        promote(moto, bucket, version)


def rollback(moto: Moto, bucket: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROLLBACK), "--bucket", bucket, "--project", "iris", *args],
        env=moto.env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def latest(moto: Moto, bucket: str) -> tuple[str, bytes]:
    answer = moto.client("s3").get_object(Bucket=bucket, Key=LATEST)
    return answer["VersionId"], answer["Body"].read()


def test_after_two_promotions_a_rollback_points_latest_at_the_first(moto: Moto, bucket: str) -> None:
    # Two real promotions: the trainer itself writes both versions and LATEST to S3.
    ids = []
    for c in ("1.0", "0.5"):
        result = train(moto.env(), f"s3://{bucket}/models", c)
        assert result.returncode == 0, result.stderr
        ids.append(latest(moto, bucket)[1].decode().strip())
    first, second = ids
    assert first != second
    result = rollback(moto, bucket)
    assert result.returncode == 0, result.stderr
    assert latest(moto, bucket)[1] == f"{first}\n".encode(), "the trainer's own format"
    sha256 = hashlib.sha256(
        moto.client("s3").get_object(Bucket=bucket, Key=f"models/iris/{first}/model.joblib")["Body"].read()
    ).hexdigest()
    assert result.stdout.splitlines() == [
        f"rolled back iris in s3://{bucket}/models/iris/",
        f"  LATEST was: {second}",
        f"  LATEST now: {first} (model.joblib sha256 {sha256[:16]}..., as its metadata.json records)",
        "The servers that follow LATEST load it within MODEL_POLL_SECONDS (30 s by default). To switch one now:",
        "  $(pulumi stack output -s <stack> projects --json | jq -r .iris.portForwardCommand) &",
        "  curl -s -X POST http://127.0.0.1:8080/v2/repository/models/iris/load",
    ]
    assert result.stderr == ""


def test_a_second_rollback_undoes_the_first(moto: Moto, bucket: str, trained: Trained) -> None:
    promoted(moto, bucket, trained, trained.first, trained.second)
    assert rollback(moto, bucket).returncode == 0
    assert rollback(moto, bucket).returncode == 0
    assert latest(moto, bucket)[1] == f"{trained.second}\n".encode()


def test_the_previous_version_skips_rewrites_of_the_current_one(moto: Moto, bucket: str, trained: Trained) -> None:
    # LATEST written twice with the same version (a re-promotion): the previous one is the one before.
    promoted(moto, bucket, trained, trained.first, trained.second)
    promote(moto, bucket, trained.second)
    assert rollback(moto, bucket).returncode == 0
    assert latest(moto, bucket)[1] == f"{trained.first}\n".encode()


def test_version_picks_a_given_one(moto: Moto, bucket: str, trained: Trained) -> None:
    promoted(moto, bucket, trained, trained.first, trained.second)
    # A third promotion: without --version the rollback would pick the second.
    promote(moto, bucket, "20260102T000000000000Z-00000000")
    result = rollback(moto, bucket, "--version", trained.first)
    assert result.returncode == 0, result.stderr
    assert latest(moto, bucket)[1] == f"{trained.first}\n".encode()
    assert result.stdout.splitlines()[1] == "  LATEST was: 20260102T000000000000Z-00000000"


@dataclass(frozen=True)
class Breakage:
    remove: str | None = None
    metadata_sha256: str | None = None
    metadata_body: bytes | None = None


@pytest.mark.parametrize(
    ("breakage", "reason"),
    [
        pytest.param(
            Breakage(remove="model.joblib"),
            "s3://{bucket}/models/iris/{version}/model.joblib does not exist: that version is not there to serve "
            "(a version folder is never overwritten, so it stays until someone deletes it)",
            id="model-missing",
        ),
        pytest.param(
            Breakage(remove="metadata.json"),
            "s3://{bucket}/models/iris/{version}/metadata.json does not exist: that version is not there to serve "
            "(a version folder is never overwritten, so it stays until someone deletes it)",
            id="metadata-missing",
        ),
        pytest.param(
            Breakage(metadata_sha256="0" * 64),
            "sha256 mismatch for s3://{bucket}/models/iris/{version}/model.joblib: metadata says {zeros}, "
            "the model is {actual}; the servers would refuse it",
            id="sha256-mismatch",
        ),
        pytest.param(
            Breakage(metadata_body=b"not json"),
            "s3://{bucket}/models/iris/{version}/metadata.json is not a JSON object",
            id="metadata-not-json",
        ),
    ],
)
@pytest.mark.parametrize("chosen", [False, True], ids=["previous", "version"])
def test_a_version_the_servers_would_refuse_is_refused_and_latest_is_untouched(
    moto: Moto, bucket: str, trained: Trained, breakage: Breakage, reason: str, chosen: bool
) -> None:
    promoted(moto, bucket, trained, trained.first, trained.second)
    s3 = moto.client("s3")
    folder = f"models/iris/{trained.first}"
    if breakage.remove:
        # As if deleted, every version of it: nothing is left to serve.
        for entry in s3.list_object_versions(Bucket=bucket, Prefix=f"{folder}/{breakage.remove}")["Versions"]:
            s3.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])
    if breakage.metadata_sha256:
        metadata = json.loads((trained.folder / trained.first / "metadata.json").read_bytes())
        metadata["sha256"] = breakage.metadata_sha256
        s3.put_object(Bucket=bucket, Key=f"{folder}/metadata.json", Body=json.dumps(metadata).encode())
    if breakage.metadata_body is not None:
        s3.put_object(Bucket=bucket, Key=f"{folder}/metadata.json", Body=breakage.metadata_body)
    before = latest(moto, bucket)
    result = rollback(moto, bucket, *(["--version", trained.first] if chosen else []))
    assert result.returncode == 1
    actual = hashlib.sha256((trained.folder / trained.first / "model.joblib").read_bytes()).hexdigest()
    expected = reason.format(bucket=bucket, version=trained.first, zeros="0" * 64, actual=actual)
    assert result.stderr == f"rollback: refused: {expected}\n"
    assert result.stdout == ""
    assert latest(moto, bucket) == before, "LATEST untouched: no new version of it"


def test_a_version_below_its_gate_is_refused(moto: Moto, bucket: str, trained: Trained) -> None:
    promoted(moto, bucket, trained, trained.first, trained.second)
    below = subprocess.run(
        [sys.executable, str(TRAIN), "--data", "builtin:iris", "--model", "iris", "--output", f"s3://{bucket}/models", "--min-accuracy", "0.99"],
        env=moto.env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert below.returncode == 6, below.stderr  # stored, not promoted
    version = below.stderr.split("/iris/")[1].split(",")[0]
    metadata = json.loads(moto.client("s3").get_object(Bucket=bucket, Key=f"models/iris/{version}/metadata.json")["Body"].read())
    before = latest(moto, bucket)
    result = rollback(moto, bucket, "--version", version)
    assert result.returncode == 1
    assert result.stderr == (
        f"rollback: refused: version {version} is below its accuracy gate "
        f"(accuracy {metadata['metrics']['accuracy']:.4f} < 0.99): it was never fit to promote\n"
    )
    assert latest(moto, bucket) == before


def test_a_single_promotion_has_nothing_to_roll_back_to(moto: Moto, bucket: str, trained: Trained) -> None:
    promoted(moto, bucket, trained, trained.first)
    before = latest(moto, bucket)
    result = rollback(moto, bucket)
    assert result.returncode == 1
    assert result.stderr == (
        f"rollback: refused: nothing to roll back to: no earlier s3://{bucket}/{LATEST} names another version than "
        f"{trained.first} (an earlier LATEST is kept storage.noncurrentVersionDays days after it was replaced; "
        "name a version folder with --version, VERSION= with make)\n"
    )
    assert latest(moto, bucket) == before


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        pytest.param(["--version", "{current}"], "LATEST already names {current}", id="already-latest"),
        pytest.param(["--version", "../other/x"], "'../other/x' is not a version id (a folder name under models/iris/)", id="not-an-id"),
    ],
)
def test_a_version_that_is_no_rollback_is_refused(moto: Moto, bucket: str, trained: Trained, args: list[str], reason: str) -> None:
    promoted(moto, bucket, trained, trained.first, trained.second)
    before = latest(moto, bucket)
    result = rollback(moto, bucket, *(arg.format(current=trained.second) for arg in args))
    assert result.returncode == 1
    assert result.stderr == f"rollback: refused: {reason.format(current=trained.second)}\n"
    assert latest(moto, bucket) == before


def test_a_project_never_promoted_is_refused(moto: Moto, bucket: str) -> None:
    result = rollback(moto, bucket)
    assert result.returncode == 1
    assert result.stderr == (
        f"rollback: refused: s3://{bucket}/{LATEST} does not exist: iris was never promoted (check --project and the bucket)\n"
    )


def test_a_deleted_latest_needs_a_chosen_version(moto: Moto, bucket: str, trained: Trained) -> None:
    promoted(moto, bucket, trained, trained.first, trained.second)
    moto.client("s3").delete_object(Bucket=bucket, Key=LATEST)
    result = rollback(moto, bucket)
    assert result.returncode == 1
    assert result.stderr == (
        f"rollback: refused: s3://{bucket}/{LATEST} is deleted: name the version to serve with --version (VERSION= with make)\n"
    )
    chosen = rollback(moto, bucket, "--version", trained.first)
    assert chosen.returncode == 0, chosen.stderr
    assert latest(moto, bucket)[1] == f"{trained.first}\n".encode()
    assert chosen.stdout.splitlines()[1] == "  LATEST was: (deleted)"


def test_without_pulumi_a_stack_is_refused_in_one_line(moto: Moto, tmp_path: Path) -> None:
    env = moto.env(PATH=str(tmp_path))  # no pulumi on it
    result = subprocess.run(
        [sys.executable, str(ROLLBACK), "--stack", "dev", "--project", "iris"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == "rollback: refused: the pulumi CLI is not on PATH: install it, or give the bucket with --bucket\n"


def test_the_bucket_comes_from_the_stacks_output(moto: Moto, bucket: str, trained: Trained, tmp_path: Path) -> None:
    # A stand-in pulumi that answers `pulumi stack output bucketName -s dev` as the CLI does.
    fake = tmp_path / "pulumi"
    fake.write_text(f'#!/bin/sh\n[ "$*" = "stack output bucketName -s dev" ] && echo {bucket} && exit 0\necho "error: no stack" >&2; exit 255\n')
    fake.chmod(0o755)
    promoted(moto, bucket, trained, trained.first, trained.second)
    command = [sys.executable, str(ROLLBACK), "--project", "iris", "--stack"]
    env = moto.env(PATH=f"{tmp_path}:/usr/bin:/bin")
    ok = subprocess.run([*command, "dev"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0, ok.stderr
    assert latest(moto, bucket)[1] == f"{trained.first}\n".encode()
    assert "  $(pulumi stack output -s dev projects --json | jq -r .iris.portForwardCommand) &" in ok.stdout.splitlines()
    other = subprocess.run([*command, "prod"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert (other.returncode, other.stderr) == (1, "rollback: refused: cannot read stack prod's bucketName: error: no stack\n")


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("args", [["PROJECT=iris"], ["STACK=dev"]], ids=["no-stack", "no-project"])
def test_make_rollback_needs_the_stack_and_the_project_named(args: list[str]) -> None:
    result = make("rollback", *args)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "make rollback needs the stack and the project named: make rollback STACK=prod PROJECT=iris [VERSION=<id>]"
    )
    assert result.stdout == ""


def test_make_rollback_runs_the_script_with_the_stack_project_and_version() -> None:
    # -n prints the commands without running them (the venv step is a dry run too).
    lines = make("-n", "rollback", "STACK=prod", "PROJECT=iris", "VERSION=20260101T000000000000Z-abcd1234").stdout.splitlines()
    assert lines[-1] == '.venv/bin/python scripts/rollback.py --stack "prod" --project "iris" --version "20260101T000000000000Z-abcd1234"'
    assert make("-n", "rollback", "STACK=prod", "PROJECT=iris").stdout.splitlines()[-1] == (
        '.venv/bin/python scripts/rollback.py --stack "prod" --project "iris"'
    )
