"""The training CLI, run for real: builtin data, S3 on loopback, the gate and every failure."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import joblib
import pytest

from .conftest import iris, base_env, run_train
from tests.loopback import Moto


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def iris_csv(label: str = "species") -> bytes:
    """Iris as a CSV with a header and string class names, as a user would upload it."""
    data_set = iris()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*data_set.feature_names, label])
    for row, target in zip(data_set.data, data_set.target):
        writer.writerow([*row, data_set.target_names[target]])
    return out.getvalue().encode()


def promoted_version(model_dir: Path) -> str:
    return (model_dir / "LATEST").read_text().strip()


def test_builtin_iris_writes_model_metadata_and_latest(tmp_path: Path) -> None:
    env = base_env()
    env.pop("MLOPS_TRAINING_IMAGE", None)  # a local run: no platform told it its image
    result = run_train("--data", "builtin:iris", "--model", "iris", "--output", tmp_path.as_uri(), env=env)
    assert result.returncode == 0, result.stderr
    version_dir = tmp_path / "iris" / promoted_version(tmp_path / "iris")
    model_bytes = (version_dir / "model.joblib").read_bytes()
    metadata = read_json(version_dir / "metadata.json")
    assert metadata["sha256"] == hashlib.sha256(model_bytes).hexdigest()
    assert metadata["version"] == version_dir.name
    assert metadata["image"] is None
    assert "image_tag" not in metadata
    assert metadata["data"]["uri"] == "builtin:iris"
    assert set(metadata["libraries"]) >= {"python", "scikit-learn", "numpy", "joblib"}
    assert datetime.fromisoformat(metadata["created_at"]).tzinfo is not None
    assert metadata["metrics"]["accuracy"] >= metadata["gate"]["min_accuracy"]


def test_trained_model_predicts_far_above_chance(tmp_path: Path) -> None:
    assert run_train("--data", "builtin:iris", "--model", "iris", "--output", tmp_path.as_uri()).returncode == 0
    version_dir = tmp_path / "iris" / promoted_version(tmp_path / "iris")
    model = joblib.load(version_dir / "model.joblib")
    data_set = iris()
    # On all of iris (train and held-out split together) a working model is far above chance.
    assert (model.predict(data_set.data) == data_set.target).mean() > 0.9


def test_same_inputs_give_the_same_model_and_a_safe_rerun(tmp_path: Path) -> None:
    args = ("--data", "builtin:wine", "--model", "wine", "--output", tmp_path.as_uri())
    first, second = run_train(*args), run_train(*args)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    versions = sorted(p for p in (tmp_path / "wine").iterdir() if p.is_dir())
    metadatas = [read_json(v / "metadata.json") for v in versions]
    assert {m["sha256"] for m in metadatas} == {metadatas[0]["sha256"]}
    assert {m["metrics"]["accuracy"] for m in metadatas} == {metadatas[0]["metrics"]["accuracy"]}
    for version in versions:  # every version folder is complete and self-consistent
        assert hashlib.sha256((version / "model.joblib").read_bytes()).hexdigest() == read_json(version / "metadata.json")["sha256"]
    assert promoted_version(tmp_path / "wine") == versions[-1].name


def test_s3_csv_with_named_label_records_object_version_and_image(moto: Moto, bucket: str) -> None:
    """A job as the platform runs it: S3 data, and MLOPS_TRAINING_IMAGE set to its image's digest."""
    s3 = moto.client("s3")
    put = s3.put_object(Bucket=bucket, Key="data/iris.csv", Body=iris_csv())
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev-train@sha256:" + "5e" * 32
    result = run_train(
        "--data", f"s3://{bucket}/data/iris.csv", "--label", "species",
        "--model", "iris", "--output", f"s3://{bucket}/models", env=moto.env(MLOPS_TRAINING_IMAGE=image),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    version = s3.get_object(Bucket=bucket, Key="models/iris/LATEST")["Body"].read().decode().strip()
    model_bytes = s3.get_object(Bucket=bucket, Key=f"models/iris/{version}/model.joblib")["Body"].read()
    metadata = json.loads(s3.get_object(Bucket=bucket, Key=f"models/iris/{version}/metadata.json")["Body"].read())
    assert metadata["data"]["uri"] == f"s3://{bucket}/data/iris.csv"
    assert metadata["data"]["version_id"] == put["VersionId"]
    assert metadata["data"]["etag"] == put["ETag"].strip('"')
    assert metadata["data"]["label"] == "species"
    assert metadata["sha256"] == hashlib.sha256(model_bytes).hexdigest()
    assert metadata["classes"] == ["setosa", "versicolor", "virginica"]
    assert metadata["image"] == image


def test_file_csv_uses_a_target_column_by_default(tmp_path: Path) -> None:
    data = tmp_path / "iris.csv"
    data.write_bytes(iris_csv(label="target"))
    result = run_train("--data", data.as_uri(), "--model", "iris", "--output", (tmp_path / "out").as_uri())
    assert result.returncode == 0, result.stderr
    metadata = read_json(tmp_path / "out" / "iris" / promoted_version(tmp_path / "out" / "iris") / "metadata.json")
    assert metadata["data"]["label"] == "target"
    assert metadata["data"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()


def test_below_the_gate_is_stored_but_not_promoted(tmp_path: Path) -> None:
    output = tmp_path.as_uri()
    assert run_train("--data", "builtin:iris", "--model", "iris", "--output", output, "--min-accuracy", "0.5").returncode == 0
    promoted_before = promoted_version(tmp_path / "iris")
    accuracy = read_json(tmp_path / "iris" / promoted_before / "metadata.json")["metrics"]["accuracy"]
    assert accuracy < 1.0, "the gate below needs a model that is not perfect"

    result = run_train("--data", "builtin:iris", "--model", "iris", "--output", output, "--min-accuracy", str(accuracy + 0.01))
    assert result.returncode == 6
    assert "not promoted" in result.stderr
    assert promoted_version(tmp_path / "iris") == promoted_before
    versions = [p.name for p in (tmp_path / "iris").iterdir() if p.is_dir()]
    assert len(versions) == 2  # the failed candidate is kept for inspection


def test_gate_promotes_at_exactly_the_threshold_and_not_just_above(tmp_path: Path) -> None:
    output = tmp_path.as_uri()
    assert run_train("--data", "builtin:iris", "--model", "iris", "--output", output, "--min-accuracy", "0").returncode == 0
    first = promoted_version(tmp_path / "iris")
    accuracy = read_json(tmp_path / "iris" / first / "metadata.json")["metrics"]["accuracy"]

    at_threshold = run_train("--data", "builtin:iris", "--model", "iris", "--output", output, "--min-accuracy", repr(accuracy))
    assert at_threshold.returncode == 0, at_threshold.stderr
    at_threshold_version = promoted_version(tmp_path / "iris")
    assert at_threshold_version != first

    just_above = repr(math.nextafter(accuracy, math.inf))
    above = run_train("--data", "builtin:iris", "--model", "iris", "--output", output, "--min-accuracy", just_above)
    assert above.returncode == 6, above.stderr
    assert promoted_version(tmp_path / "iris") == at_threshold_version


def assert_clean_failure(result: Any, code: int, reason: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("train: error: ") and reason in lines[0], lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("make_data_uri", "code", "reason"),
    [
        pytest.param(lambda d: (d / "absent.csv").as_uri(), 3, "data not found", id="missing-file"),
        pytest.param(lambda d: "builtin:no_such_set", 3, "data not found", id="unknown-builtin"),
        pytest.param(lambda d: d / "nolabel.csv", 5, "label column 'species' not in", id="missing-label"),
        pytest.param(lambda d: d / "garbage.csv", 5, "unreadable CSV", id="not-utf8"),
        pytest.param(lambda d: d / "text.csv", 5, "non-numeric feature", id="non-numeric"),
        pytest.param(lambda d: d, 5, "cannot read", id="a-directory"),
    ],
)
def test_bad_local_data_fails_in_one_line_and_promotes_nothing(
    tmp_path: Path, make_data_uri: Any, code: int, reason: str
) -> None:
    (tmp_path / "nolabel.csv").write_bytes(iris_csv(label="kind"))
    (tmp_path / "garbage.csv").write_bytes(b"\xff\xfe\x00\x81" * 100)
    (tmp_path / "text.csv").write_text("a,b,species\n1,x,y\n2,3,z\n")
    data = make_data_uri(tmp_path)
    data_uri = data.as_uri() if isinstance(data, Path) else data
    output = tmp_path / "out"
    result = run_train("--data", data_uri, "--label", "species", "--model", "m", "--output", output.as_uri())
    assert_clean_failure(result, code, reason)
    assert not output.exists()


def test_missing_s3_object_is_data_not_found(moto: Moto, bucket: str) -> None:
    result = run_train(
        "--data", f"s3://{bucket}/x.csv", "--model", "m", "--output", f"s3://{bucket}/models", env=moto.env()
    )  # fmt: skip
    assert_clean_failure(result, 3, f"data not found: s3://{bucket}/x.csv")
    assert moto.client("s3").list_objects_v2(Bucket=bucket, Prefix="models/").get("KeyCount") == 0


def test_s3_access_denied_is_a_clean_failure(moto: Moto, bucket: str) -> None:
    """A real IAM denial: moto checks requests against IAM once enforcement is on.

    The caller is an IAM user whose only permission is listing the bucket, so the
    GetObject for the data set is refused by policy evaluation, not by a fake.
    """
    moto.client("s3").put_object(Bucket=bucket, Key="data/iris.csv", Body=iris_csv())
    iam = moto.client("iam")
    iam.create_user(UserName="list-only")
    iam.put_user_policy(
        UserName="list-only",
        PolicyName="list-only",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName="list-only")["AccessKey"]
    env = moto.env(AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    moto.enforce_iam(True)
    try:
        result = run_train(
            "--data", f"s3://{bucket}/data/iris.csv", "--label", "species",
            "--model", "iris", "--output", f"s3://{bucket}/models", env=env,
        )  # fmt: skip
    finally:
        moto.enforce_iam(False)
    assert_clean_failure(result, 4, f"access denied (AccessDenied): s3://{bucket}/data/iris.csv")
    assert moto.client("s3").list_objects_v2(Bucket=bucket, Prefix="models/").get("KeyCount") == 0


def test_bad_arguments_exit_with_usage_code_in_one_line(tmp_path: Path) -> None:
    result = run_train("--data", "builtin:iris", "--model", "a/b", "--output", tmp_path.as_uri())
    assert (result.returncode, result.stderr) == (2, "train: error: --model must be a non-empty name without '/': 'a/b'\n")


def test_unwritable_output_is_a_clean_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the output folder should go")
    result = run_train("--data", "builtin:iris", "--model", "iris", "--output", (blocker / "models").as_uri())
    assert_clean_failure(result, 7, "cannot write")


# --- hyperparameters and promotion --------------------------------------------------------


def test_params_reach_the_estimator_and_the_metadata(tmp_path: Path) -> None:
    result = run_train(
        "--data", "builtin:iris", "--model", "iris", "--output", tmp_path.as_uri(),
        "--param", "C=0.05", "--param", "max_iter=200",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    version_dir = tmp_path / "iris" / promoted_version(tmp_path / "iris")
    estimator = joblib.load(version_dir / "model.joblib")[-1]
    assert (estimator.C, estimator.max_iter) == (0.05, 200)
    assert read_json(version_dir / "metadata.json")["training"] == {
        "seed": 42,
        "test_size": 0.2,
        "estimator": "StandardScaler+LogisticRegression",
        "params": {"C": 0.05, "max_iter": 200},
    }


def test_without_params_the_defaults_are_used_and_recorded(tmp_path: Path) -> None:
    assert run_train("--data", "builtin:iris", "--model", "iris", "--output", tmp_path.as_uri()).returncode == 0
    version_dir = tmp_path / "iris" / promoted_version(tmp_path / "iris")
    estimator = joblib.load(version_dir / "model.joblib")[-1]
    assert (estimator.C, estimator.max_iter) == (1.0, 1000)
    assert read_json(version_dir / "metadata.json")["training"]["params"] == {"C": 1.0, "max_iter": 1000}


@pytest.mark.parametrize(
    ("pairs", "reason"),
    [
        pytest.param(["C"], "--param 'C' is not NAME=VALUE", id="no-equals"),
        pytest.param(["=1"], "--param '=1' is not NAME=VALUE", id="no-name"),
        pytest.param(["C="], "--param 'C=' is not NAME=VALUE", id="no-value"),
        pytest.param(["gamma=1"], "--param: unknown name 'gamma' (known: C, max_iter)", id="unknown-name"),
        pytest.param(["C=1", "C=2"], "--param: C given twice", id="twice"),
        pytest.param(["C=abc"], "--param C=abc: C must be a number > 0", id="not-a-number"),
        pytest.param(["C=0"], "--param C=0: C must be a number > 0", id="zero"),
        pytest.param(["C=nan"], "--param C=nan: C must be a number > 0", id="nan"),
        pytest.param(["C=inf"], "--param C=inf: C must be a number > 0", id="infinite"),
        pytest.param(["max_iter=1.5"], "--param max_iter=1.5: max_iter must be an integer >= 1", id="fractional-int"),
        pytest.param(["max_iter=0"], "--param max_iter=0: max_iter must be an integer >= 1", id="zero-iterations"),
    ],
)
def test_a_bad_param_is_a_bad_command_line_in_one_line(tmp_path: Path, pairs: list[str], reason: str) -> None:
    output = tmp_path / "out"
    args = [arg for pair in pairs for arg in ("--param", pair)]
    result = run_train("--data", "builtin:iris", "--model", "iris", "--output", output.as_uri(), *args)
    assert (result.returncode, result.stderr) == (2, f"train: error: {reason}\n")
    assert not output.exists()


def test_no_promote_stores_the_version_and_leaves_latest_alone(tmp_path: Path) -> None:
    output = tmp_path.as_uri()
    assert run_train("--data", "builtin:iris", "--model", "iris", "--output", output).returncode == 0
    promoted_before = promoted_version(tmp_path / "iris")

    result = run_train("--data", "builtin:iris", "--model", "iris", "--output", output, "--no-promote")
    assert result.returncode == 0, result.stderr
    [candidate] = [p for p in (tmp_path / "iris").iterdir() if p.is_dir() and p.name != promoted_before]
    metadata = read_json(candidate / "metadata.json")
    assert metadata["gate"] == {"min_accuracy": 0.8, "passed": True, "promote": False}
    assert metadata["sha256"] == hashlib.sha256((candidate / "model.joblib").read_bytes()).hexdigest()
    assert promoted_version(tmp_path / "iris") == promoted_before
    accuracy = metadata["metrics"]["accuracy"]
    assert result.stdout == f"train: stored {output}/iris/{candidate.name} (accuracy {accuracy:.4f}), not promoted (--no-promote)\n"


def test_no_promote_on_a_first_run_writes_no_latest(tmp_path: Path) -> None:
    result = run_train("--data", "builtin:iris", "--model", "iris", "--output", tmp_path.as_uri(), "--no-promote")
    assert result.returncode == 0, result.stderr
    [entry] = list((tmp_path / "iris").iterdir())  # the version folder, and no LATEST beside it
    assert entry.is_dir() and sorted(p.name for p in entry.iterdir()) == ["metadata.json", "model.joblib"]


def test_no_promote_below_the_gate_still_exits_6_and_records_the_gate(tmp_path: Path) -> None:
    result = run_train(
        "--data", "builtin:iris", "--model", "iris", "--output", tmp_path.as_uri(), "--no-promote", "--min-accuracy", "1.01",
    )  # fmt: skip
    assert_clean_failure(result, 6, "< --min-accuracy 1.01")
    [candidate] = list((tmp_path / "iris").iterdir())
    assert read_json(candidate / "metadata.json")["gate"] == {"min_accuracy": 1.01, "passed": False, "promote": False}


def test_a_promoting_run_records_that_it_may_promote(tmp_path: Path) -> None:
    assert run_train("--data", "builtin:iris", "--model", "iris", "--output", tmp_path.as_uri(), "--min-accuracy", "0.5").returncode == 0
    metadata = read_json(tmp_path / "iris" / promoted_version(tmp_path / "iris") / "metadata.json")
    assert metadata["gate"] == {"min_accuracy": 0.5, "passed": True, "promote": True}
