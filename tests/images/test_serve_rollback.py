"""scripts/rollback.py end to end: the real trainer promotes twice to S3 on moto, the real server
follows LATEST, and after `rollback` it answers with the first version again (by its poll, or at
once on the load call the script prints)."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import joblib
import numpy as np
import orjson

from .conftest import REPO, Server, iris, run_train, wait_until
from tests.loopback import Moto

StartServer = Callable[..., Server]
ROLLBACK = REPO / "scripts" / "rollback.py"
# Two poll ticks and one load on 2 shared cores.
FOLLOW_BOUND_SECONDS = 5.0


@dataclass(frozen=True)
class Promoted:
    bucket: str
    first: str
    second: str
    rows: np.ndarray  # rows the two versions predict differently
    first_predictions: list[int]


def promote_twice(moto: Moto, bucket: str) -> Promoted:
    s3 = moto.client("s3")
    ids = []
    for c in ("1.0", "0.001"):  # a much weaker C moves some predictions; no gate, it is not about accuracy
        trained = run_train(
            "--data", "builtin:iris", "--model", "iris", "--output", f"s3://{bucket}/models",
            "--param", f"C={c}", "--min-accuracy", "0", env=moto.env(),
        )  # fmt: skip
        assert trained.returncode == 0, trained.stderr
        ids.append(s3.get_object(Bucket=bucket, Key="models/iris/LATEST")["Body"].read().decode().strip())
    first, second = ids
    models = [
        joblib.load(io.BytesIO(s3.get_object(Bucket=bucket, Key=f"models/iris/{v}/model.joblib")["Body"].read())) for v in ids
    ]
    data = iris().data
    differ = models[0].predict(data) != models[1].predict(data)
    assert differ.sum() >= 1
    rows = data[differ][:1]
    return Promoted(bucket, first, second, rows, models[0].predict(rows).tolist())


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


def test_after_a_rollback_the_server_answers_with_the_first_version(start_server: StartServer, moto: Moto, bucket: str) -> None:
    promoted = promote_twice(moto, bucket)
    server = start_server(f"s3://{bucket}/models/iris/LATEST", workers=1, env=moto.env(MODEL_POLL_SECONDS="0.2"))
    assert infer(server, promoted.rows)[0] == promoted.second

    result = rollback(moto, bucket)
    assert result.returncode == 0, result.stderr
    assert f"  LATEST now: {promoted.first} " in result.stdout
    wait_until(lambda: serves(server, promoted.first), f"the server to follow LATEST to {promoted.first}", FOLLOW_BOUND_SECONDS)
    assert infer(server, promoted.rows) == (promoted.first, promoted.first_predictions)


def test_with_polling_off_the_printed_load_call_switches_at_once(start_server: StartServer, moto: Moto, bucket: str) -> None:
    promoted = promote_twice(moto, bucket)
    server = start_server(f"s3://{bucket}/models/iris/LATEST", workers=1, env=moto.env(MODEL_POLL_SECONDS="0"))
    assert rollback(moto, bucket).returncode == 0
    assert serves(server, promoted.second), "no poll: it still serves the second"
    loaded = server.post("/v2/repository/models/iris/load")
    assert (loaded.status_code, loaded.json()) == (200, {"name": "iris", "version": promoted.first})
    assert infer(server, promoted.rows) == (promoted.first, promoted.first_predictions)
