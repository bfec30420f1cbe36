"""offline/sides.py: one side's process output read back as registrations per stack, or its failure."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from offline.diff import StackRun
from offline.sides import _registration, _runs
from tests.registrations import reg


def _printing(stdout: str, stderr: str = "", code: int = 0) -> subprocess.Popen[str]:
    script = "import sys; sys.stdout.write(sys.argv[1]); sys.stderr.write(sys.argv[2]); sys.exit(int(sys.argv[3]))"
    return subprocess.Popen([sys.executable, "-c", script, stdout, stderr, str(code)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_registration_comes_back_from_json_with_its_aliases_and_ignored_paths_as_tuples() -> None:
    # JSON gives lists; a registration's aliases and ignore_changes are tuples, as the engine records them.
    bucket = dataclasses.replace(reg("aws:s3/bucket:Bucket", "data", aliases=("urn:old",), bucket="b"), ignore_changes=("tags",))
    restored = _registration(json.loads(json.dumps(dataclasses.asdict(bucket))))
    assert (restored.urn, restored.inputs, restored.aliases, restored.ignore_changes) == (
        bucket.urn, {"bucket": "b"}, ("urn:old",), ("tags",))


def test_each_stack_of_a_side_is_its_resources_or_its_error() -> None:
    bucket = reg("aws:s3/bucket:Bucket", "data")
    printed = json.dumps({"dev": {"ok": True, "environment": "dev", "resources": [dataclasses.asdict(bucket)]},
                          "qa": {"ok": False, "environment": None, "error": "boom"}})
    runs = _runs(_printing(printed), "BASE")
    assert ({stack: (run.environment, run.error, [r.urn for r in run.resources or []]) for stack, run in runs.items()}) == {
        "dev": ("dev", None, [bucket.urn]), "qa": (None, "boom", [])}
    assert runs["qa"] == StackRun(None, None, "boom")


def test_a_side_that_cannot_render_stops_with_its_last_line() -> None:
    with pytest.raises(RuntimeError, match=r"^rendering BASE failed: boom$"):
        _runs(_printing("", "noise\nboom\n", 1), "BASE")
