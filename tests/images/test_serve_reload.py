"""The real server following a promotion by itself: LATEST polled, the repository extension's
load, broken versions refused, and no failed request across the switch (S3 on moto)."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import orjson
import pytest
import sklearn
from prometheus_client.mmap_dict import MmapedDict

from .conftest import Bucket, Server, Versions, scrape, wait_until
from tests.loopback import Moto

StartServer = Callable[..., Server]
TOKEN = "reload-token-7fQ2xW9p"
MISMATCH_ADVICE = "a pickle loads only with the versions it was made with: serve it from a server image with those, or retrain it with this one's"
POLL = "0.2"
# follow.CHECK_SECONDS, plus time for one load on 2 shared cores: the bound on a load call's
# reaching every worker, and on a poll's (with the 0.2 s poll, ticks are 0.2 s).
CONVERGE_BOUND_SECONDS = 0.5 + 1.5


def server_env(moto: Moto, metrics: Path, **extra: str) -> dict[str, str]:
    """A metrics folder of the test's own, so each worker's files can be read (one per pid)."""
    metrics.mkdir()
    return moto.env(PROMETHEUS_MULTIPROC_DIR=str(metrics), **extra)


def per_worker(metrics: Path, kind: str, sample: str) -> dict[int, dict[tuple[tuple[str, str], ...], float]]:
    """Each worker's own values of one sample, from its prometheus-client file (``<kind>_<pid>.db``)."""
    found: dict[int, dict[tuple[tuple[str, str], ...], float]] = {}
    for path in metrics.glob(f"{kind}_*.db"):
        values = found.setdefault(int(path.stem.rsplit("_", 1)[1]), {})
        for key, value, _timestamp, _position in MmapedDict.read_all_values_from_file(str(path)):
            _metric, name, labels, _help = json.loads(key)
            if name == sample:
                values[tuple(sorted(labels.items()))] = value
    return found


def serving_per_worker(metrics: Path) -> dict[int, list[str]]:
    """pid -> the versions whose mlops_model_info that worker last set to 1."""
    info = per_worker(metrics, "gauge_mostrecent", "mlops_model_info")
    return {pid: sorted(dict(labels)["version"] for labels, value in series.items() if value == 1) for pid, series in info.items()}


def answered_per_worker(metrics: Path) -> dict[int, float]:
    counts = per_worker(metrics, "counter", "inference_requests_total")
    return {pid: series.get((("code", "200"), ("model", "iris")), 0.0) for pid, series in counts.items()}


def infer(url: str, rows: np.ndarray, client: httpx.Client | None = None) -> httpx.Response:
    body = orjson.dumps({"inputs": [{"name": "x", "shape": list(rows.shape), "datatype": "FP64", "data": rows.tolist()}]})
    return (client or httpx).post(f"{url}/v2/models/iris/infer", content=body, timeout=10)


def fresh_connections() -> httpx.Client:
    """A new connection per request, so the kernel hands requests to every worker, not one."""
    return httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))


def failures(server: Server) -> float:
    return scrape(server)["mlops_model_load_failures_total"][(("model", "iris"),)]


def all_serve(metrics: Path, workers: int, version: str) -> bool:
    """Each of the workers has set version's info to 1 and every other version's to 0."""
    serving = serving_per_worker(metrics)
    return len(serving) == workers and all(versions == [version] for versions in serving.values())


def wait_for_versions(metrics: Path, workers: int, version: str, bound: float = CONVERGE_BOUND_SECONDS) -> float:
    """Seconds until every worker serves version."""
    started = time.monotonic()
    wait_until(lambda: all_serve(metrics, workers, version), f"{workers} workers on {version}", bound)
    return time.monotonic() - started


# --- following LATEST -------------------------------------------------------------------------


def test_a_promoted_version_reaches_every_worker_within_the_poll(
    start_server: StartServer, moto: Moto, s3: Bucket, versions: Versions, tmp_path: Path
) -> None:
    for version in (versions.old, versions.new):
        s3.publish(versions, version)
    s3.promote(versions.old)
    metrics = tmp_path / "metrics"
    server = start_server(f"{s3.prefix}/LATEST", workers=2, env=server_env(moto, metrics, MODEL_POLL_SECONDS=POLL))
    # Ready is one worker's answer: the other may still be loading, and would load the new version at start.
    wait_until(lambda: all_serve(metrics, 2, versions.old), "both workers to load")

    promoted_at = time.time()
    s3.promote(versions.new)
    wait_for_versions(metrics, 2, versions.new)

    # Enough requests, on fresh connections, that each worker answered some: every answer is the new version's.
    before = answered = answered_per_worker(metrics)
    expected = versions.model(versions.new).predict(versions.rows[:1]).tolist()
    with fresh_connections() as client, concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(25):
            for response in pool.map(lambda _: infer(server.url, versions.rows[:1], client), range(8)):
                assert response.status_code == 200, response.text
                assert (response.json()["model_version"], response.json()["outputs"][0]["data"]) == (versions.new, expected)
            answered = answered_per_worker(metrics)
            if len(answered) == 2 and all(answered[pid] > before.get(pid, 0) for pid in answered):
                break
        else:
            pytest.fail(f"200 requests did not reach both workers: {before} -> {answered}")

    assert server.get("/v2/models/iris").json()["versions"] == [versions.new]
    series = scrape(server)
    assert series["mlops_model_info"] == {(("model", "iris"), ("version", versions.old)): 0.0, (("model", "iris"), ("version", versions.new)): 1.0}
    created_at = s3.metadata(versions.new)["created_at"]
    assert series["mlops_model_trained_timestamp_seconds"] == {(("model", "iris"),): datetime.fromisoformat(created_at).timestamp()}
    assert series["mlops_model_loaded_timestamp_seconds"][(("model", "iris"),)] >= promoted_at
    assert series["mlops_model_load_failures_total"] == {(("model", "iris"),): 0.0}
    assert server.log.read_text().count(f"model iris version {versions.new} loaded from {s3.prefix}/{versions.new}, replacing {versions.old}") == 2


@dataclass(frozen=True)
class Answer:
    sent: float
    status: int
    version: str | None
    predictions: list[Any] | None


def test_under_load_across_the_switch_no_request_fails_and_each_answer_is_one_versions(
    start_server: StartServer, moto: Moto, s3: Bucket, versions: Versions, tmp_path: Path
) -> None:
    for version in (versions.old, versions.new):
        s3.publish(versions, version)
    s3.promote(versions.old)
    metrics = tmp_path / "metrics"
    server = start_server(f"{s3.prefix}/LATEST", workers=2, env=server_env(moto, metrics, MODEL_POLL_SECONDS=POLL))
    wait_until(lambda: all_serve(metrics, 2, versions.old), "both workers to load")
    expected = {version: versions.model(version).predict(versions.rows).tolist() for version in (versions.old, versions.new)}
    answers: list[Answer] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def send() -> None:
        with fresh_connections() as client:
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    response = infer(server.url, versions.rows, client)
                except httpx.HTTPError as exc:
                    errors.append(exc)
                    continue
                body = response.json()
                ok = response.status_code == 200
                answers.append(Answer(sent, response.status_code, body.get("model_version"), body["outputs"][0]["data"] if ok else None))

    senders = [threading.Thread(target=send) for _ in range(6)]
    for sender in senders:
        sender.start()
    try:
        time.sleep(0.5)
        s3.promote(versions.new)
        loading = time.monotonic()
        loaded = httpx.post(f"{server.url}/v2/repository/models/iris/load", timeout=30)
        loaded_at = time.monotonic()
        time.sleep(CONVERGE_BOUND_SECONDS + 0.3)
    finally:
        stop.set()
        for sender in senders:
            sender.join()

    assert loaded.status_code == 200, loaded.text
    assert loaded.json() == {"name": "iris", "version": versions.new}
    assert errors == []
    assert [answer for answer in answers if answer.status != 200] == []
    # Each answer's predictions are those of the version it names: no request mixed two.
    assert [a for a in answers if a.version not in expected or a.predictions != expected[a.version]] == []
    before = [a for a in answers if a.sent < loading]
    after = [a for a in answers if a.sent > loaded_at + CONVERGE_BOUND_SECONDS]
    assert {a.version for a in before} == {versions.old}
    assert len(after) >= 20 and {a.version for a in after} == {versions.new}
    assert all_serve(metrics, 2, versions.new)


def test_with_polling_off_a_load_call_moves_every_worker(
    start_server: StartServer, moto: Moto, s3: Bucket, versions: Versions, tmp_path: Path
) -> None:
    for version in (versions.old, versions.new):
        s3.publish(versions, version)
    s3.promote(versions.old)
    metrics = tmp_path / "metrics"
    server = start_server(f"{s3.prefix}/LATEST", workers=2, env=server_env(moto, metrics, MODEL_POLL_SECONDS="0"))
    wait_until(lambda: all_serve(metrics, 2, versions.old), "both workers to load")
    s3.promote(versions.new)
    time.sleep(1.0)  # two load-signal ticks and five of the poll that is off: a worker that polled would have moved
    assert all_serve(metrics, 2, versions.old)

    loaded = server.post("/v2/repository/models/iris/load")
    assert loaded.status_code == 200, loaded.text
    assert loaded.json() == {"name": "iris", "version": versions.new}
    # The worker that answered serves it already; the other follows on the load signal.
    wait_for_versions(metrics, 2, versions.new)
    assert {infer(server.url, versions.rows[:1]).json()["model_version"] for _ in range(10)} == {versions.new}


def test_a_pinned_version_is_not_polled(start_server: StartServer, moto: Moto, s3: Bucket, versions: Versions, tmp_path: Path) -> None:
    for version in (versions.old, versions.new):
        s3.publish(versions, version)
    s3.promote(versions.old)
    metrics = tmp_path / "metrics"
    server = start_server(f"{s3.prefix}/{versions.old}", workers=2, env=server_env(moto, metrics, MODEL_POLL_SECONDS=POLL))
    wait_until(lambda: all_serve(metrics, 2, versions.old), "both workers to load")
    s3.promote(versions.new)
    time.sleep(0.6)  # three poll intervals
    assert all_serve(metrics, 2, versions.old)
    # A load call loads what MODEL_URI names: the pinned version, already serving.
    loaded = server.post("/v2/repository/models/iris/load")
    assert (loaded.status_code, loaded.json()) == (200, {"name": "iris", "version": versions.old})
    assert server.log.read_text().count("model iris version ") == 2  # one load per worker, at start


# --- broken versions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("breakage", "reason"),
    [
        pytest.param({"tamper": True}, "sha256 mismatch for {prefix}/{version}/model.joblib: metadata says {sha256}, got {actual}", id="sha256"),
        pytest.param(
            {"libraries": {"scikit-learn": "1.0.0"}},
            "library mismatch for {prefix}/{version}: scikit-learn 1.0.0 (this server has {sklearn}); " + MISMATCH_ADVICE,
            id="library-version",
        ),
    ],
)
def test_a_broken_version_never_replaces_the_good_one(
    start_server: StartServer, moto: Moto, s3: Bucket, versions: Versions, tmp_path: Path, breakage: dict[str, Any], reason: str
) -> None:
    s3.publish(versions, versions.old)
    broken = s3.publish(versions, versions.new, **breakage)
    s3.promote(versions.old)
    metrics = tmp_path / "metrics"
    server = start_server(f"{s3.prefix}/LATEST", workers=2, env=server_env(moto, metrics, MODEL_POLL_SECONDS=POLL))
    wait_until(lambda: all_serve(metrics, 2, versions.old), "both workers to load")
    assert failures(server) == 0

    s3.promote(broken)
    wait_until(lambda: failures(server) == 2, "each worker to try the broken version once")
    time.sleep(0.6)  # three more polls: an unchanged LATEST naming a rejected version is not tried again
    assert failures(server) == 2
    model_bytes = (versions.models / "iris" / versions.new / "model.joblib").read_bytes() + b"\0"
    expected = reason.format(
        prefix=s3.prefix,
        version=broken,
        sha256=s3.metadata(broken)["sha256"],
        actual=hashlib.sha256(model_bytes).hexdigest(),
        sklearn=sklearn.__version__,
    )
    assert server.log.read_text().count(f"model not loaded: {expected} (still serving {s3.prefix}/{versions.old})") == 2
    assert {infer(server.url, versions.rows[:1]).json()["model_version"] for _ in range(10)} == {versions.old}
    assert server.get("/v2/health/ready").status_code == 200

    # A load call tries it again, says why it can't, and leaves the old one serving.
    refused = server.post("/v2/repository/models/iris/load")
    assert refused.status_code == 409
    assert refused.json() == {"error": f"{expected}; still serving {versions.old}"}
    assert failures(server) == 3
    assert scrape(server)["mlops_model_info"] == {(("model", "iris"), ("version", versions.old)): 1.0}

    # LATEST naming another version: that one is loaded.
    fixed = s3.publish(versions, versions.new, as_version=f"{versions.new}-fixed")
    s3.promote(fixed)
    wait_for_versions(metrics, 2, fixed)
    assert failures(server) == 3


def test_a_version_not_there_yet_is_tried_again_at_the_next_poll(
    start_server: StartServer, moto: Moto, s3: Bucket, versions: Versions, tmp_path: Path
) -> None:
    """A fetch failure is not the version's fault (nothing is rewritten, but storage can fail): the poll retries it."""
    s3.publish(versions, versions.old)
    s3.promote(versions.old)
    metrics = tmp_path / "metrics"
    server = start_server(f"{s3.prefix}/LATEST", workers=1, env=server_env(moto, metrics, MODEL_POLL_SECONDS=POLL))
    assert all_serve(metrics, 1, versions.old)
    s3.promote(versions.new)
    wait_until(lambda: failures(server) >= 2, "the missing version to be tried at two polls")
    assert server.log.read_text().count(f"model not loaded: cannot read {s3.prefix}/{versions.new}/metadata.json: NoSuchKey") == 1
    s3.publish(versions, versions.new)
    wait_for_versions(metrics, 1, versions.new)


# --- the load endpoint ----------------------------------------------------------------------


def test_the_load_endpoint_with_a_token(start_server: StartServer, trained_models: Path, tmp_path: Path, moto: Moto) -> None:
    models = tmp_path / "models"
    shutil.copytree(trained_models, models)
    version = (models / "iris" / "LATEST").read_text().strip()
    server = start_server(f"{models.as_uri()}/iris/LATEST", workers=1, env=moto.env(MLOPS_AUTH_TOKEN=TOKEN))
    load = f"{server.url}/v2/repository/models/iris/load"
    bearer = {"Authorization": f"Bearer {TOKEN}"}

    refused = httpx.post(load, timeout=10)
    assert (refused.status_code, refused.json()) == (401, {"error": "this endpoint needs an Authorization: Bearer <token> header"})
    wrong = httpx.post(load, headers={"Authorization": f"Bearer {TOKEN}x"}, timeout=10)
    assert (wrong.status_code, wrong.json()) == (401, {"error": "the bearer token is not valid"})
    for body in (b"", b"{}", b'{"parameters": {}}'):
        loaded = httpx.post(load, headers=bearer, content=body, timeout=10)
        assert (loaded.status_code, loaded.json()) == (200, {"name": "iris", "version": version})

    unknown = httpx.post(f"{server.url}/v2/repository/models/nope/load", headers=bearer, timeout=10)
    assert (unknown.status_code, unknown.json()) == (404, {"error": "unknown model 'nope': this server serves 'iris'"})
    config = httpx.post(load, headers=bearer, content=b'{"parameters": {"config": "{}"}}', timeout=10)
    assert config.status_code == 400
    assert config.json() == {"error": "this server's load takes no parameters, got ['config']: it loads the version MODEL_URI names"}
    not_json = httpx.post(load, headers=bearer, content=b"{", timeout=10)
    assert not_json.status_code == 400 and not_json.json()["error"].startswith("body is not valid JSON: ")
