"""projects/digits, run for real on the CPU: it trains into S3 on loopback, and the built-in server serves it."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import joblib
import numpy as np
import orjson
import pytest
import xgboost
from sklearn.datasets import load_digits

from tests.images.conftest import REPO, Server
from tests.loopback import Moto, base_env

TRAIN = REPO / "projects" / "digits" / "train.py"
# Where a generated training image puts mlops_training; in a checkout it is images/train.
CONTRACT = REPO / "images" / "train"
StartServer = Callable[..., Server]


def run_digits(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TRAIN), *args],
        env={**(env or base_env()), "PYTHONPATH": str(CONTRACT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def digits_module() -> ModuleType:
    """projects/digits/train.py imported in this process (under its own name), for its pure functions."""
    sys.path.insert(0, str(CONTRACT))
    try:
        spec = importlib.util.spec_from_file_location("digits_train", TRAIN)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(CONTRACT))
    return module


def infer(server: Server, rows: np.ndarray) -> dict[str, Any]:
    tensor = {"name": "pixels", "shape": list(rows.shape), "datatype": "FP64", "data": rows.ravel().tolist()}
    response = server.post("/v2/models/digits/infer", content=orjson.dumps({"inputs": [tensor]}))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def digits_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A digits model trained by the real entry point into a file:// output, shared read-only."""
    output = tmp_path_factory.mktemp("digits-models")
    result = run_digits("--data", "builtin:digits", "--model", "digits", "--output", output.as_uri(), "--param", "n_estimators=20")
    assert result.returncode == 0, result.stderr
    return output


def test_trains_on_the_cpu_into_s3_and_the_server_answers_with_its_predictions(
    start_server: StartServer, moto: Moto, bucket: str
) -> None:
    result = run_digits(
        "--data", "builtin:digits", "--model", "digits", "--output", f"s3://{bucket}/models",
        "--min-accuracy", "0.9", "--param", "n_estimators=50", env=moto.env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    log = result.stdout.splitlines()
    assert log[0].startswith("train: training on cpu (xgboost 3.2.0, a CPU-only build, GPU devices: "), log[0]
    s3 = moto.client("s3")
    version = s3.get_object(Bucket=bucket, Key="models/digits/LATEST")["Body"].read().decode().strip()
    assert log[1].startswith(f"train: promoted s3://{bucket}/models/digits/{version} (accuracy 0.9")
    metadata = json.loads(s3.get_object(Bucket=bucket, Key=f"models/digits/{version}/metadata.json")["Body"].read())
    model = joblib.load(io.BytesIO(s3.get_object(Bucket=bucket, Key=f"models/digits/{version}/model.joblib")["Body"].read()))

    server = start_server(f"s3://{bucket}/models/digits/LATEST", env=moto.env(MODEL_NAME="digits"), workers=1)
    digits: Any = load_digits()
    answer = infer(server, digits.data[:256])
    assert answer["model_version"] == version
    assert answer["outputs"] == [{"name": "predict", "shape": [256], "datatype": "INT64", "data": model.predict(digits.data[:256]).tolist()}]
    assert (np.array(answer["outputs"][0]["data"]) == digits.target[:256]).mean() > 0.9
    described = server.get("/v2/models/digits").json()
    assert (described["platform"], described["inputs"]) == ("xgboost-3.2.0", [{"name": "input-0", "datatype": "FP64", "shape": [-1, 64]}])
    assert metadata["training"] == {
        "seed": 42,
        "test_size": 0.2,
        "estimator": "XGBClassifier",
        "params": {"n_estimators": 50, "max_depth": 6, "learning_rate": 0.3},
        "device": "cpu",
    }


def test_metadata_records_the_libraries_the_server_compares(digits_models: Path) -> None:
    version = (digits_models / "digits" / "LATEST").read_text().strip()
    metadata = json.loads((digits_models / "digits" / version / "metadata.json").read_text())
    assert {name: metadata["libraries"][name] for name in ("scikit-learn", "numpy", "xgboost")} == {
        "scikit-learn": "1.9.1",
        "numpy": "2.4.6",
        "xgboost": xgboost.__version__,
    }
    assert (metadata["data"], metadata["classes"]) == (
        {"uri": "builtin:digits", "version": "scikit-learn 1.9.1", "rows": 1797, "label": "target"},
        list(range(10)),
    )


def test_the_stored_model_predicts_on_the_cpu(digits_models: Path) -> None:
    version = (digits_models / "digits" / "LATEST").read_text().strip()
    model = joblib.load(digits_models / "digits" / version / "model.joblib")
    assert model.get_params()["device"] == "cpu"
    assert json.loads(model.get_booster().save_config())["learner"]["generic_param"]["device"] == "cpu"


def test_a_model_of_another_xgboost_is_refused_before_ready(start_server: StartServer, digits_models: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    shutil.copytree(digits_models, models)
    version_dir = models / "digits" / (models / "digits" / "LATEST").read_text().strip()
    metadata = json.loads((version_dir / "metadata.json").read_text())
    metadata["libraries"]["xgboost"] = "3.1.0"
    (version_dir / "metadata.json").write_text(json.dumps(metadata))
    server = start_server(f"{models.as_uri()}/digits/LATEST", env=base_env(MODEL_NAME="digits"), workers=1, wait_for="/v2/health/live")
    reason = (
        f"library mismatch for {version_dir.as_uri()}: xgboost 3.1.0 (this server has {xgboost.__version__}); "
        "a pickle loads only with the versions it was made with: serve it from a server image with those, or retrain it with this one's"
    )
    assert server.get("/v2/health/ready").json() == {"ready": False, "reason": reason}
    assert f"model not loaded: {reason}" in server.log.read_text()


@pytest.mark.parametrize(
    ("cuda_build", "gpu_devices", "cuda_visible_devices", "device"),
    [
        pytest.param(False, ["/dev/nvidia0"], None, "cpu", id="cpu-only-build-beside-a-gpu"),
        pytest.param(True, [], None, "cpu", id="cuda-build-without-a-gpu"),
        pytest.param(True, ["/dev/nvidia0"], None, "cuda", id="cuda-build-and-a-gpu"),
        pytest.param(True, ["/dev/nvidia0"], "0", "cuda", id="gpu-listed-visible"),
        pytest.param(True, ["/dev/nvidia0"], "", "cpu", id="all-gpus-hidden-by-empty"),
        pytest.param(True, ["/dev/nvidia0"], "-1", "cpu", id="all-gpus-hidden-by-minus-one"),
    ],
)
def test_trains_on_cuda_only_with_a_cuda_build_and_a_visible_gpu(
    cuda_build: bool, gpu_devices: list[str], cuda_visible_devices: str | None, device: str
) -> None:
    assert digits_module().choose_device(cuda_build, gpu_devices, cuda_visible_devices) == device


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        pytest.param(["--data", "s3://b/x.csv"], 3, "train: error: data not found: s3://b/x.csv (this project trains on builtin:digits)\n", id="other-data"),
        pytest.param(
            ["--data", "builtin:digits", "--param", "gamma=1"],
            2,
            "train: error: --param: unknown name 'gamma' (known: n_estimators, max_depth, learning_rate)\n",
            id="unknown-param",
        ),
    ],
)
def test_a_bad_run_fails_in_one_line_and_writes_nothing(tmp_path: Path, args: list[str], code: int, stderr: str) -> None:
    result = run_digits(*args, "--model", "digits", "--output", (tmp_path / "out").as_uri())
    assert (result.returncode, result.stderr) == (code, stderr)
    assert not (tmp_path / "out").exists()


def test_no_promote_stores_the_version_without_latest(tmp_path: Path) -> None:
    result = run_digits(
        "--data", "builtin:digits", "--model", "digits", "--output", tmp_path.as_uri(), "--no-promote", "--param", "n_estimators=5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [version_dir] = list((tmp_path / "digits").iterdir())
    assert sorted(p.name for p in version_dir.iterdir()) == ["metadata.json", "model.joblib"]
    assert json.loads((version_dir / "metadata.json").read_text())["gate"]["promote"] is False


def test_a_baseline_is_scored_by_the_digits_scorer_on_this_runs_held_out_images(digits_models: Path, tmp_path: Path) -> None:
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split

    shutil.copytree(digits_models, tmp_path, dirs_exist_ok=True)
    baseline = (tmp_path / "digits" / "LATEST").read_text().strip()
    result = run_digits(
        "--data", "builtin:digits", "--model", "digits", "--output", tmp_path.as_uri(), "--no-promote",
        "--param", "n_estimators=5", "--seed", "3", "--baseline", baseline,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [candidate] = [p for p in (tmp_path / "digits").iterdir() if p.is_dir() and p.name != baseline]
    metadata = json.loads((candidate / "metadata.json").read_text())
    digits: Any = load_digits()
    _, x_test, _, y_test = train_test_split(digits.data, digits.target, test_size=0.2, random_state=3, stratify=digits.target)
    predicted = joblib.load(tmp_path / "digits" / baseline / "model.joblib").predict(x_test)
    expected = {"accuracy": float(accuracy_score(y_test, predicted)), "f1_macro": float(f1_score(y_test, predicted, average="macro"))}
    assert metadata["baseline"] == {"version": baseline, "metrics": expected}
    assert metadata["training"]["seed"] == 3
    # The new model's metrics come from the same scorer: on the held-out images of this split.
    new_predicted = joblib.load(candidate / "model.joblib").predict(x_test)
    assert metadata["metrics"]["accuracy"] == float(accuracy_score(y_test, new_predicted))
