"""offline/git_base.py: BASE as a commit, and git's answers and failures."""

from __future__ import annotations

import subprocess

import pytest


def test_git_failures_stop_the_review() -> None:
    # A mistyped BASE must stop `make diff` with git's error, not review against nothing.
    from offline.git_base import _git

    with pytest.raises(subprocess.CalledProcessError):
        _git("rev-parse", "--verify", "no-such-ref-anywhere")


def test_git_answers_are_text() -> None:
    # Commit ids go into the report's title and into `git archive`; bytes would print as b'...'.
    from offline.git_base import _git

    head = _git("rev-parse", "HEAD")
    assert isinstance(head, str) and len(head) == 40


def test_a_given_base_is_resolved_to_its_commit_and_said_as_given() -> None:
    from offline.git_base import Base, _git, resolve_base

    assert resolve_base("HEAD") == Base("HEAD", _git("rev-parse", "HEAD"), "BASE=HEAD")


def test_a_base_that_is_no_commit_stops_the_review_with_its_name() -> None:
    from offline.git_base import resolve_base

    with pytest.raises(SystemExit, match=r"^error: BASE=no-such-ref-anywhere is not a commit in this repository$"):
        resolve_base("no-such-ref-anywhere")
