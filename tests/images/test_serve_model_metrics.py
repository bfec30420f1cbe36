"""The loaded model's gauges on the real server's /metrics: which version it answers with,
when that was loaded and when it was trained (what the ModelStale rule reads)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest

from .conftest import Server, run_train, scrape, wait_until
from tests.loopback import Moto

StartServer = Callable[..., Server]
MODEL_METRICS = ("mlops_model_info", "mlops_model_loaded_timestamp_seconds", "mlops_model_trained_timestamp_seconds")
LOADED_LINE = "model iris version "


def loads_logged(server: Server) -> int:
    return server.log.read_text().count(LOADED_LINE)


def test_two_workers_show_one_series_each_with_the_versions_values(start_server: StartServer, moto: Moto, bucket: str) -> None:
    trained = run_train("--data", "builtin:iris", "--model", "iris", "--output", f"s3://{bucket}/models", env=moto.env())
    assert trained.returncode == 0, trained.stderr
    s3 = moto.client("s3")
    version = s3.get_object(Bucket=bucket, Key="models/iris/LATEST")["Body"].read().decode().strip()
    metadata = orjson.loads(s3.get_object(Bucket=bucket, Key=f"models/iris/{version}/metadata.json")["Body"].read())
    # The version's files carry their time to the second; the load is after the start.
    started = time.time()
    server = start_server(f"s3://{bucket}/models/iris/LATEST", workers=2, env=moto.env())
    wait_until(lambda: loads_logged(server) == 2, "both workers to load the model")
    both_loaded = time.time()

    series = scrape(server)

    assert series["mlops_model_info"] == {(("model", "iris"), ("version", version)): 1.0}
    assert series["mlops_model_trained_timestamp_seconds"] == {
        (("model", "iris"),): datetime.fromisoformat(metadata["created_at"]).timestamp()
    }
    [(labels, loaded_at)] = series["mlops_model_loaded_timestamp_seconds"].items()
    assert labels == (("model", "iris"),)
    assert started <= loaded_at <= both_loaded


def test_no_model_gauges_before_a_model_is_loaded(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(f"{(tmp_path / 'models').as_uri()}/iris/LATEST", workers=1, wait_for="/v2/health/live")
    assert server.get("/v2/health/ready").status_code == 503
    assert not set(MODEL_METRICS) & set(scrape(server))


def with_created_at(trained_models: Path, tmp_path: Path, created_at: str | None) -> tuple[Path, str]:
    """A copy of the trained models whose promoted metadata has this created_at (None: none at all)."""
    models = tmp_path / "models"
    shutil.copytree(trained_models, models)
    version = (models / "iris" / "LATEST").read_text().strip()
    metadata_file = models / "iris" / version / "metadata.json"
    metadata = orjson.loads(metadata_file.read_bytes())
    metadata.pop("created_at")
    if created_at is not None:
        metadata["created_at"] = created_at
    metadata_file.write_bytes(orjson.dumps(metadata))
    return models, version


@pytest.mark.parametrize(
    ("created_at", "trained"),
    [
        pytest.param("2026-01-02T03:04:05+00:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), id="utc"),
        pytest.param("2026-01-02T05:04:05+02:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), id="offset"),
        pytest.param("2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), id="no-offset-is-utc"),
    ],
)
def test_the_trained_timestamp_is_the_metadatas_created_at(
    start_server: StartServer, trained_models: Path, tmp_path: Path, created_at: str, trained: datetime
) -> None:
    models, _ = with_created_at(trained_models, tmp_path, created_at)
    server = start_server(f"{models.as_uri()}/iris/LATEST", workers=1)
    assert scrape(server)["mlops_model_trained_timestamp_seconds"] == {(("model", "iris"),): trained.timestamp()}


def test_a_version_without_created_at_is_served_with_no_trained_timestamp(
    start_server: StartServer, trained_models: Path, tmp_path: Path
) -> None:
    models, version = with_created_at(trained_models, tmp_path, None)
    server = start_server(f"{models.as_uri()}/iris/LATEST", workers=1)
    series = scrape(server)
    assert series["mlops_model_info"] == {(("model", "iris"), ("version", version)): 1.0}
    assert set(series["mlops_model_loaded_timestamp_seconds"]) == {(("model", "iris"),)}
    assert "mlops_model_trained_timestamp_seconds" not in series


def test_a_created_at_that_is_no_time_is_invalid_metadata(start_server: StartServer, trained_models: Path, tmp_path: Path) -> None:
    """Like any other field of the contract: the version is refused, not served with a guessed age."""
    models, version = with_created_at(trained_models, tmp_path, "last tuesday")
    server = start_server(f"{models.as_uri()}/iris/LATEST", workers=1, wait_for="/v2/health/live")
    reason = server.get("/v2/health/ready").json()["reason"]
    assert reason.startswith(f"invalid {models.as_uri()}/iris/{version}/metadata.json: 1 validation error for ModelMetadata\ncreated_at\n")
    assert not set(MODEL_METRICS) & set(scrape(server))
