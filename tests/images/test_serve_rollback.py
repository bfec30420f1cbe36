"""scripts/rollback.py end to end: two versions of the real trainer promoted in turn to S3 on moto, the real server
follows LATEST, and after `rollback` it answers with the first version again (by its poll, or at
once on the load call the script prints)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import httpx
import numpy as np
import orjson

from .conftest import REPO, Bucket, Server, Versions, wait_until
from tests.loopback import Moto

StartServer = Callable[..., Server]
ROLLBACK = REPO / "scripts" / "rollback.py"
# Two poll ticks and one load on 2 shared cores.
FOLLOW_BOUND_SECONDS = 5.0


def promote_twice(s3: Bucket, versions: Versions) -> None:
    """Both versions published as the trainer writes them, then promoted in turn: LATEST's history."""
    for version in (versions.old, versions.new):
        s3.publish(versions, version)
        s3.promote(version)


def infer(server: Server, rows: np.ndarray) -> tuple[str, list[int]]:
    body = orjson.dumps({"inputs": [{"name": "x", "shape": list(rows.shape), "datatype": "FP64", "data": rows.tolist()}]})
    answer = httpx.post(f"{server.url}/v2/models/iris/infer", content=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["model_version"], answer.json()["outputs"][0]["data"]


def rollback(moto: Moto, bucket: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROLLBACK), "--bucket", bucket, "--project", "iris"],
        env=moto.env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def serves(server: Server, version: str) -> bool:
    return server.get("/v2/models/iris").json()["versions"] == [version]


def test_after_a_rollback_the_server_answers_with_the_first_version(
    start_server: StartServer, moto: Moto, s3: Bucket, versions: Versions
) -> None:
    promote_twice(s3, versions)
    rows = versions.rows[:1]
    server = start_server(f"{s3.prefix}/LATEST", workers=1, env=moto.env(MODEL_POLL_SECONDS="0.2"))
    assert infer(server, rows)[0] == versions.new

    result = rollback(moto, s3.name)
    assert result.returncode == 0, result.stderr
    assert f"  LATEST now: {versions.old} " in result.stdout
    wait_until(lambda: serves(server, versions.old), f"the server to follow LATEST to {versions.old}", FOLLOW_BOUND_SECONDS)
    assert infer(server, rows) == (versions.old, versions.model(versions.old).predict(rows).tolist())


def test_with_polling_off_the_printed_load_call_switches_at_once(
    start_server: StartServer, moto: Moto, s3: Bucket, versions: Versions
) -> None:
    promote_twice(s3, versions)
    rows = versions.rows[:1]
    server = start_server(f"{s3.prefix}/LATEST", workers=1, env=moto.env(MODEL_POLL_SECONDS="0"))
    assert rollback(moto, s3.name).returncode == 0
    assert serves(server, versions.new), "no poll: it still serves the second"
    loaded = server.post("/v2/repository/models/iris/load")
    assert (loaded.status_code, loaded.json()) == (200, {"name": "iris", "version": versions.old})
    assert infer(server, rows) == (versions.old, versions.model(versions.old).predict(rows).tolist())
