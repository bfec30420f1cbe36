"""What the tests of the review (diff, changes, danger, reports) share: sides, hand-made registrations, fixtures."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from offline.diff import StackDiff, StackRun, compare_stack
from offline.engine import ROOT, Recording, Registration, run_program, stack_config_with
from offline.git_base import Base
from offline.review import build_report
from offline.values import SECRET_SIG, SECRET_SIG_KEY

BASE = Base("test-base", "0" * 40, "a test fixture")


def run_changed(stack: str, **changes: Any) -> Recording:
    return run_program(stack, stack_config_with(stack, changes))


def side(recording: Recording, environment: str) -> StackRun:
    return StackRun(environment, list(recording.resources))


def diff_between(stack: str, base: Recording, head: Recording, environment: str | None = None) -> StackDiff:
    env = environment or stack
    return compare_stack(stack, side(base, env), side(head, env))


def actions_of(diff: StackDiff) -> dict[str, str]:
    return {c.name: c.action for c in diff.changes}


@pytest.fixture(scope="module")
def dev_with_backup() -> Recording:
    return run_changed("dev", **{"mlops:storage": {"backupRegion": "us-west-2"}})


@pytest.fixture(scope="module")
def prod_as_dev() -> Recording:
    # The prod stack with environment dev: protection off, no access logs.
    return run_changed("prod", **{"mlops:environment": "dev"})


@dataclasses.dataclass(frozen=True)
class FakeViolation:
    rule: str
    severity: str
    urn: str
    message: str


def git_in(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()


def program_copy(repo: Path) -> Path:
    """The program, its stacks and images in a new folder, to commit changes to."""
    repo.mkdir()
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, repo / name)
    for folder in ("components", "stacks", "images"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return repo


def edited(recording: Recording, type_: str, name: str, **inputs: Any) -> Recording:
    old = recording.get(type_, name)
    new = dataclasses.replace(old, inputs={**old.inputs, **inputs})
    return Recording(resources=[new if r is old else r for r in recording.resources])


# --- hand-made registrations (no program run) ---

BUCKET_T = "aws:s3/bucket:Bucket"
KEY_T = "aws:kms/key:Key"
TOPIC_T = "aws:sns/platformApplication:PlatformApplication"


def reg(type_: str, name: str, /, *, protect: bool = False, retain: bool = False, provider: str = "",
        aliases: tuple[str, ...] = (), parent: str = "", **inputs: Any) -> Registration:
    urn = f"urn:pulumi:s::mlops::{parent + '$' if parent else ''}{type_}::{name}"
    return Registration(type=type_, name=name, urn=urn, id=f"{name}-id", inputs=inputs, state=dict(inputs), parent="",
                        provider=provider, protect=protect, retain_on_delete=retain, delete_before_replace=False,
                        custom=True, aliases=aliases)


def diff_of(base: list[Registration], head: list[Registration], *, environment: str = "prod",
            base_environment: str | None = None) -> StackDiff:
    return compare_stack("s", StackRun(base_environment or environment, base), StackRun(environment, head))


# A bucket renamed (replaced), a bucket removed, a key renamed without an alias (URN change).
DATA = reg(BUCKET_T, "data", bucket="mlops-data")

RENAMED_DATA = reg(BUCKET_T, "data", bucket="mlops-data-2")

KEY = reg(KEY_T, "key", description="data")

KEY_RENAMED = reg(KEY_T, "data-key", description="data")

TOPIC = reg(TOPIC_T, "alerts", displayName="a")


def every_kind_report() -> tuple[str, dict[str, Any]]:
    """A protected bucket replaced, a key renamed without an alias, a NAT gateway deleted (the cost
    drop), a script's changed lines, a secret, a new unpriced queue, and two policy results."""
    def secret(value: str) -> dict[str, str]:
        return {SECRET_SIG_KEY: SECRET_SIG, "value": value}

    base = [reg(BUCKET_T, "data", protect=True, bucket="a"), reg(KEY_T, "key", description="k"), reg(TOPIC_T, "gone"),
            reg("aws:ec2/natGateway:NatGateway", "nat"), reg(TOPIC_T, "script", userData="line1\nline2\n", token=secret("a"), size=1)]
    head = [reg(BUCKET_T, "data", bucket="b"), reg(KEY_T, "key2", description="k"),
            reg(TOPIC_T, "script", userData="line1\nline3\n", token=secret("b"), size=2.0), reg("aws:sqs/queuePolicy:QueuePolicy", "q", name="q")]

    def policy(resources: Any, environment: str) -> list[FakeViolation]:
        return [FakeViolation("s3-bucket-key", "advisory", "urn:x::sse", "no key"), FakeViolation("s3-tls-only", "mandatory", "urn:x::data-policy", "no tls")]

    markdown, document, _ = build_report({"prod": StackRun("prod", base), "dev": StackRun("dev", [TOPIC])},
                                  {"prod": StackRun("prod", head), "dev": StackRun("dev", [TOPIC])}, BASE, policy=policy)
    return markdown, json.loads(document)
