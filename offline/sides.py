"""Render both sides of a review, BASE and the working tree, each in its own process.

Each process runs offline/snapshot.py on one checkout with the working tree's engine, and
its JSON comes back as registrations per stack.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from offline.diff import StackRun
from offline.engine import Registration


def _start(root: Path) -> subprocess.Popen[str]:
    snapshot = Path(__file__).resolve().parent / "snapshot.py"
    return subprocess.Popen([sys.executable, str(snapshot), str(root)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _runs(process: subprocess.Popen[str], label: str) -> dict[str, StackRun]:
    out, err = process.communicate()
    if process.returncode != 0:
        last = (err.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"rendering {label} failed: {last}")
    runs = {}
    for stack, entry in json.loads(out).items():
        resources = None
        if entry.get("ok"):
            resources = [_registration(r) for r in entry["resources"]]
        runs[stack] = StackRun(entry.get("environment"), resources, entry.get("error"))
    return runs


def _registration(data: dict[str, Any]) -> Registration:
    return Registration(**{**data, "aliases": tuple(data.get("aliases", ())),
                            "ignore_changes": tuple(data.get("ignore_changes", ()))})


def render_sides(base_root: Path, head_root: Path) -> tuple[dict[str, StackRun], dict[str, StackRun]]:
    """Both sides at once, one process each."""
    base, head = _start(base_root), _start(head_root)
    return _runs(base, "BASE"), _runs(head, "the working tree")
