"""Fixtures for the image tests: S3 on loopback (moto), the real training CLI, the real server."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import joblib
import numpy as np
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sklearn.datasets import load_iris
from sklearn.utils import Bunch

from tests.loopback import Moto, base_env, free_port

REPO = Path(__file__).resolve().parents[2]
TRAIN = REPO / "images" / "train" / "train.py"
SERVER = REPO / "images" / "serve" / "server.py"
HEALTHCHECK = REPO / "images" / "serve" / "healthcheck.py"
# A bound on waiting for processes to come up, so a broken start fails instead of hanging.
STARTUP_BOUND_SECONDS = 60.0
# uvicorn gives requests in flight up to 30 s on SIGTERM; the tests leave none that long.
STOP_BOUND_SECONDS = 30.0


def iris() -> Bunch:
    """The iris data set (load_iris's stubs also allow the return_X_y tuple)."""
    return cast(Bunch, load_iris())


def process_group(pgid: int) -> dict[int, str]:
    """Live (not zombie) processes in group pgid, read from /proc: pid -> command line."""
    members: dict[int, str] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = stat_file.read_text()
            command = (stat_file.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # exited while we looked
            continue
        # Fields after the parenthesised command name: state, ppid, pgrp, ...
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members[int(stat_file.parent.name)] = command
    return members


def wait_until(condition: Callable[[], bool], what: str, bound: float = STARTUP_BOUND_SECONDS) -> None:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"gave up waiting {bound:.0f}s for {what}")


def run_train(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TRAIN), *args],
        env=env or base_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An iris model trained by the real CLI into a file:// output, shared read-only."""
    output = tmp_path_factory.mktemp("models")
    result = run_train("--data", "builtin:iris", "--model", "iris", "--output", output.as_uri())
    assert result.returncode == 0, result.stderr
    return output


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + path, timeout=10, **kwargs)

    def answers(self, path: str, status: int) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"server exited with {self.process.returncode}:\n{self.log.read_text()}")
        try:
            return self.get(path).status_code == status
        except httpx.TransportError:
            return False

    def stop(self) -> int:
        """Stop it as Kubernetes does (SIGTERM, then wait) and fail if any process of its group outlives it.

        The group is what start_new_session made: the uvicorn master, its workers and
        multiprocessing's resource tracker. If SIGTERM is not enough, the whole group is killed.
        """
        members = process_group(self.process.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=STOP_BOUND_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"server ignored SIGTERM for {STOP_BOUND_SECONDS:.0f}s; killed its process group {members}")
        deadline = time.monotonic() + STOP_BOUND_SECONDS
        while (survivors := process_group(self.process.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        if survivors:
            self.kill()
            pytest.fail(f"processes outlived the server (killed now): {survivors}")
        return code

    def kill(self) -> None:
        """SIGKILL the whole process group: the master alone would leave its workers running."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


Labels = tuple[tuple[str, str], ...]


def scrape(server: Server) -> dict[str, dict[Labels, float]]:
    """The server's /metrics as series name (`_bucket`, `_total`, ... included) -> {sorted labels: value}."""
    response = server.get("/metrics")
    assert response.status_code == 200, response.text
    series: dict[str, dict[Labels, float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            assert labels not in series.setdefault(sample.name, {}), f"{sample.name}{labels} twice in the scrape"
            series[sample.name][labels] = sample.value
    return series


def launch_server(
    model_uri: str, log: Path, *, workers: int = 2, wait_for: str = "/v2/health/ready", env: dict[str, str] | None = None
) -> Server:
    """Start the real server.py on a free loopback port and wait until wait_for answers 200."""
    port = free_port()
    server_env = dict(env or base_env())
    server_env.setdefault("MODEL_NAME", "iris")
    server_env["MODEL_URI"] = model_uri
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, str(SERVER), "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=server_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() can find and kill every child
        )
    server = Server(process=process, port=port, log=log)
    try:
        wait_until(lambda: server.answers(wait_for, 200), f"{wait_for} on the server ({log})")
    except BaseException:
        server.kill()
        raise
    return server


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """launch_server for one test; at teardown each is stopped, and none may leave a process behind."""
    # ExitStack runs every stop even when an earlier one fails.
    numbers = itertools.count()
    with contextlib.ExitStack() as stops:

        def start(model_uri: str, **options: Any) -> Server:
            server = launch_server(model_uri, tmp_path / f"server-{next(numbers)}.log", **options)
            stops.callback(server.stop)
            return server

        yield start


@dataclass(frozen=True)
class Versions:
    """Two versions trained by the real CLI that disagree on some iris rows."""

    models: Path
    old: str
    new: str
    rows: np.ndarray  # rows the two versions predict differently

    def model(self, version: str) -> Any:
        return joblib.load(self.models / "iris" / version / "model.joblib")


@pytest.fixture(scope="session")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Versions:
    models = tmp_path_factory.mktemp("two-versions")
    ids = []
    for c in ("1.0", "0.001"):  # a much weaker C moves some predictions; no gate, it is not about accuracy
        trained = run_train("--data", "builtin:iris", "--model", "iris", "--output", models.as_uri(), "--param", f"C={c}", "--min-accuracy", "0")
        assert trained.returncode == 0, trained.stderr
        ids.append((models / "iris" / "LATEST").read_text().strip())
    old, new = ids
    data = iris().data
    differ = joblib.load(models / "iris" / old / "model.joblib").predict(data) != joblib.load(models / "iris" / new / "model.joblib").predict(data)
    assert differ.sum() >= 10
    return Versions(models=models, old=old, new=new, rows=data[differ])


@dataclass
class Bucket:
    moto: Moto
    name: str

    @property
    def prefix(self) -> str:
        return f"s3://{self.name}/models/iris"

    def publish(self, versions: Versions, version: str, *, as_version: str | None = None, **breakage: Any) -> str:
        """Upload a trained version's folder (renamed as_version, its metadata saying so), broken as asked."""
        name = as_version or version
        source = versions.models / "iris" / version
        model_bytes = (source / "model.joblib").read_bytes() + (b"\0" if breakage.get("tamper") else b"")
        metadata = orjson.loads((source / "metadata.json").read_bytes())
        metadata["version"] = name
        metadata["libraries"].update(breakage.get("libraries", {}))
        s3 = self.moto.client("s3")
        s3.put_object(Bucket=self.name, Key=f"models/iris/{name}/model.joblib", Body=model_bytes)
        s3.put_object(Bucket=self.name, Key=f"models/iris/{name}/metadata.json", Body=orjson.dumps(metadata))
        return name

    def promote(self, version: str) -> None:
        self.moto.client("s3").put_object(Bucket=self.name, Key="models/iris/LATEST", Body=f"{version}\n".encode())

    def metadata(self, version: str) -> dict[str, Any]:
        body = self.moto.client("s3").get_object(Bucket=self.name, Key=f"models/iris/{version}/metadata.json")["Body"].read()
        return orjson.loads(body)


@pytest.fixture
def s3(moto: Moto, bucket: str) -> Bucket:
    return Bucket(moto, bucket)
