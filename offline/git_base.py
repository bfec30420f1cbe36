"""BASE for a review: which commit to compare with, and its tree as files, from git."""

from __future__ import annotations

import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from offline.engine import ROOT


@dataclass(frozen=True)
class Base:
    ref: str
    commit: str
    how: str
    """How the base was chosen, said in the report (e.g. "merge-base of HEAD and main")."""


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _verify(ref: str) -> str | None:
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except subprocess.CalledProcessError:
        return None


def resolve_base(ref: str | None) -> Base:
    """BASE as given, else the merge base with main (or origin/main, master), else HEAD."""
    if ref:
        commit = _verify(ref)
        if commit is None:
            raise SystemExit(f"error: BASE={ref} is not a commit in this repository")
        return Base(ref, commit, f"BASE={ref}")
    for branch in ("main", "origin/main", "master", "origin/master"):
        if _verify(branch) is None:
            continue
        try:
            commit = _git("merge-base", "HEAD", branch)
        except subprocess.CalledProcessError:
            continue
        return Base(f"merge-base HEAD {branch}", commit, f"the merge base of HEAD and {branch}")
    commit = _verify("HEAD")
    if commit is None:
        raise SystemExit("error: no commit to compare with; pass BASE=<git ref>")
    return Base("HEAD", commit, "HEAD (no main, origin/main or master branch found)")


def extract(commit: str, into: Path, repo: Path = ROOT) -> Path:
    """BASE's tree as files, from `git archive` (the repository and its worktrees are untouched)."""
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=repo, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into
