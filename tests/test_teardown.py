"""`make teardown`: the two-step teardown script, run against a stand-in `pulumi` that records calls."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from offline.engine import ROOT

SCRIPT = ROOT / "scripts" / "teardown.sh"


def run_teardown(tmp_path: Path, *args: str, answers: str = "", env: dict[str, str] | None = None, failing: str = "") -> tuple[int, list[str]]:
    """Run the script with a fake pulumi on PATH; return its exit code and the pulumi calls."""
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n[ "$1" != "{failing}" ]\n')
    fake.chmod(0o755)
    result = subprocess.run(
        ["bash", str(SCRIPT), *args],
        input=answers,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}", **(env or {})},
        check=False,
    )
    return result.returncode, calls.read_text().splitlines() if calls.exists() else []


def test_teardown_lifts_protection_then_destroys(tmp_path: Path) -> None:
    code, calls = run_teardown(tmp_path, "prod", answers="prod\nprod\n")
    assert code == 0
    assert calls == [
        "config set --stack prod mlops:teardown true",
        "up --stack prod",
        "destroy --stack prod",
        "config rm --stack prod mlops:teardown",
    ]


def test_teardown_changes_nothing_unless_the_name_is_typed_twice(tmp_path: Path) -> None:
    code, calls = run_teardown(tmp_path, "prod", answers="prod\nprdo\n")
    assert code == 1
    assert calls == []


def test_teardown_with_explicit_confirmation_does_not_prompt(tmp_path: Path) -> None:
    code, calls = run_teardown(tmp_path, "prod", env={"CONFIRM": "prod"})
    assert code == 0
    assert calls[1:3] == ["up --stack prod --yes", "destroy --stack prod --yes"]


def test_confirmation_for_another_stack_does_not_count(tmp_path: Path) -> None:
    code, calls = run_teardown(tmp_path, "prod", env={"CONFIRM": "dev"})  # no answers on stdin
    assert code != 0
    assert calls == []


def test_teardown_stops_when_the_unprotecting_up_fails(tmp_path: Path) -> None:
    code, calls = run_teardown(tmp_path, "prod", answers="prod\nprod\n", failing="up")
    assert code != 0
    assert calls == ["config set --stack prod mlops:teardown true", "up --stack prod"]


@pytest.mark.parametrize("args", [[], [""]])
def test_teardown_needs_a_stack_name(tmp_path: Path, args: list[str]) -> None:
    code, calls = run_teardown(tmp_path, *args)
    assert code == 2
    assert calls == []
