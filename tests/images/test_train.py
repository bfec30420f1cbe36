"""The training CLI, run for real: builtin data, S3 on loopback, the gate and every failure."""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib.util
import io
import json
import math
import shutil
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import joblib
import pytest

from .conftest import REPO, iris, base_env, run_train
from tests.loopback import Moto


@functools.cache
def contract() -> ModuleType:
    """images/train/mlops_training.py imported in this process, for what a subprocess can't reach."""
    name = "mlops_training_in_process"
    spec = importlib.util.spec_from_file_location(name, REPO / "images" / "train" / "mlops_training.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


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


# --- seed, run id, reproduces: contract arguments ----------------------------------------------


def test_seed_is_a_contract_argument_that_reaches_the_split_and_the_metadata(tmp_path: Path) -> None:
    seeds = {}
    for seed in ("42", "7"):
        output = tmp_path / seed
        assert run_train("--data", "builtin:iris", "--model", "iris", "--output", output.as_uri(), "--seed", seed).returncode == 0
        seeds[seed] = read_json(output / "iris" / promoted_version(output / "iris") / "metadata.json")
    assert (seeds["42"]["training"]["seed"], seeds["7"]["training"]["seed"]) == (42, 7)
    assert seeds["42"]["sha256"] != seeds["7"]["sha256"]  # another split, another model
    assert contract().contract_parser(None, {}).parse_args(["--data", "d", "--model", "m", "--output", "o"]).seed == 42


def test_run_id_and_reproduces_are_recorded_and_null_without_them(tmp_path: Path) -> None:
    output = tmp_path.as_uri()
    assert run_train("--data", "builtin:iris", "--model", "iris", "--output", output, "--no-promote").returncode == 0
    [plain] = [p for p in (tmp_path / "iris").iterdir()]
    result = run_train(
        "--data", "builtin:iris", "--model", "iris", "--output", output, "--no-promote",
        "--run-id", "scheduled__2026-01-01T03:00:00+00:00/try-2", "--reproduces", plain.name,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [marked] = [p for p in (tmp_path / "iris").iterdir() if p != plain]
    plain_metadata, marked_metadata = read_json(plain / "metadata.json"), read_json(marked / "metadata.json")
    assert (plain_metadata["run_id"], plain_metadata["reproduces"], plain_metadata["baseline"]) == (None, None, None)
    assert (marked_metadata["run_id"], marked_metadata["reproduces"]) == ("scheduled__2026-01-01T03:00:00+00:00/try-2", plain.name)
    assert marked_metadata["sha256"] == plain_metadata["sha256"]  # recorded only: the training is the same


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        pytest.param(["--seed", "-1"], "--seed must be an integer from 0 to 4294967295: -1", id="negative-seed"),
        pytest.param(["--seed", "4294967296"], "--seed must be an integer from 0 to 4294967295: 4294967296", id="seed-too-big"),
        pytest.param(["--run-id", ""], "--run-id must not be empty", id="empty-run-id"),
        pytest.param(["--baseline", ""], "--baseline must name a version (a folder under --output/--model): ''", id="empty-baseline"),
        pytest.param(["--baseline", "a/b"], "--baseline must name a version (a folder under --output/--model): 'a/b'", id="baseline-path"),
        pytest.param(["--baseline", "LATEST"], "--baseline must name a version (a folder under --output/--model): 'LATEST'", id="baseline-latest"),
        pytest.param(["--reproduces", "../x"], "--reproduces must name a version (a folder under --output/--model): '../x'", id="reproduces-path"),
    ],
)
def test_a_bad_contract_argument_is_a_bad_command_line(tmp_path: Path, args: list[str], reason: str) -> None:
    output = tmp_path / "out"
    result = run_train("--data", "builtin:iris", "--model", "iris", "--output", output.as_uri(), *args)
    assert (result.returncode, result.stderr) == (2, f"train: error: {reason}\n")
    assert not output.exists()


# --- one version of an S3 object: ?versionId=<id> -----------------------------------------------


def test_a_version_id_reads_exactly_that_version_of_the_object(moto: Moto, bucket: str) -> None:
    s3 = moto.client("s3")
    older = s3.put_object(Bucket=bucket, Key="data/iris.csv", Body=iris_csv(label="species"))
    s3.put_object(Bucket=bucket, Key="data/iris.csv", Body=iris_csv(label="kind"))  # current: no 'species' column
    result = run_train(
        "--data", f"s3://{bucket}/data/iris.csv?versionId={older['VersionId']}", "--label", "species",
        "--model", "iris", "--output", f"s3://{bucket}/models", env=moto.env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    version = s3.get_object(Bucket=bucket, Key="models/iris/LATEST")["Body"].read().decode().strip()
    metadata = json.loads(s3.get_object(Bucket=bucket, Key=f"models/iris/{version}/metadata.json")["Body"].read())
    assert metadata["data"] == {
        "uri": f"s3://{bucket}/data/iris.csv",
        "etag": older["ETag"].strip('"'),
        "version_id": older["VersionId"],
        "rows": 150,
        "label": "species",
    }


def test_a_version_the_object_does_not_have_is_data_not_found(moto: Moto, bucket: str) -> None:
    moto.client("s3").put_object(Bucket=bucket, Key="data/iris.csv", Body=iris_csv())
    result = run_train(
        "--data", f"s3://{bucket}/data/iris.csv?versionId=no-such-version", "--label", "species",
        "--model", "iris", "--output", f"s3://{bucket}/models", env=moto.env(),
    )  # fmt: skip
    assert_clean_failure(result, 3, f"data not found: no version no-such-version of s3://{bucket}/data/iris.csv (NoSuchVersion)")
    assert moto.client("s3").list_objects_v2(Bucket=bucket, Prefix="models/").get("KeyCount") == 0


def test_a_version_id_s3_cannot_parse_is_data_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real S3 answers InvalidArgument ("Invalid version id specified") for a malformed id; moto does not."""
    from botocore.exceptions import ClientError

    module = contract()

    class Refusing:
        def get_object(self, **kwargs: str) -> Any:
            assert kwargs == {"Bucket": "b", "Key": "k.csv", "VersionId": "bad"}
            raise ClientError({"Error": {"Code": "InvalidArgument", "Message": "Invalid version id specified"}}, "GetObject")

    monkeypatch.setattr(module, "_s3_client", Refusing)
    with pytest.raises(module.TrainError) as raised:
        module.read_object("s3://b/k.csv?versionId=bad")
    assert (raised.value.code, raised.value.reason) == (3, "data not found: no version bad of s3://b/k.csv (InvalidArgument)")


@pytest.mark.parametrize(
    ("make_data_uri", "reason"),
    [
        pytest.param(lambda d: f"{(d / 'iris.csv').as_uri()}?versionId=1", "?versionId is for s3:// URIs only", id="file"),
        pytest.param(lambda d: "builtin:iris?versionId=1", "?versionId is for s3:// URIs only", id="builtin"),
        pytest.param(lambda d: "s3://b/k.csv?versionId=", "the only query a data URI takes is ?versionId=<id>", id="empty-id"),
        pytest.param(lambda d: "s3://b/k.csv?versionId=1&versionId=2", "the only query a data URI takes is ?versionId=<id>", id="two-ids"),
        pytest.param(lambda d: "s3://b/k.csv?partNumber=1", "the only query a data URI takes is ?versionId=<id>", id="other-query"),
    ],
)
def test_a_version_id_only_goes_with_one_s3_object(tmp_path: Path, make_data_uri: Any, reason: str) -> None:
    (tmp_path / "iris.csv").write_bytes(iris_csv(label="target"))
    data_uri = make_data_uri(tmp_path)
    result = run_train("--data", data_uri, "--model", "iris", "--output", (tmp_path / "out").as_uri())
    assert (result.returncode, result.stderr) == (2, f"train: error: {data_uri}: {reason}\n")
    assert not (tmp_path / "out").exists()


# --- --baseline: a stored version scored on this run's held-out split ---------------------------


def held_out_metrics(model: Any, seed: int = 42) -> dict[str, float]:
    """The metrics of a model on iris's held-out split as train.py makes it, computed here independently."""
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split

    data_set = iris()
    _, x_test, _, y_test = train_test_split(data_set.data, data_set.target, test_size=0.2, random_state=seed, stratify=data_set.target)
    predicted = model.predict(x_test)
    return {"accuracy": float(accuracy_score(y_test, predicted)), "f1_macro": float(f1_score(y_test, predicted, average="macro"))}


def test_a_baseline_in_s3_is_scored_on_this_runs_held_out_split(moto: Moto, bucket: str) -> None:
    s3, output = moto.client("s3"), f"s3://{bucket}/models"
    first = run_train("--data", "builtin:iris", "--model", "iris", "--output", output, "--param", "C=0.001", "--min-accuracy", "0", env=moto.env())
    assert first.returncode == 0, first.stderr
    baseline = s3.get_object(Bucket=bucket, Key="models/iris/LATEST")["Body"].read().decode().strip()
    result = run_train("--data", "builtin:iris", "--model", "iris", "--output", output, "--no-promote", "--seed", "7", "--baseline", baseline, env=moto.env())
    assert result.returncode == 0, result.stderr
    [candidate] = [
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="models/iris/")["Contents"]
        if o["Key"].endswith("/metadata.json") and baseline not in o["Key"]
    ]  # fmt: skip
    metadata = json.loads(s3.get_object(Bucket=bucket, Key=candidate)["Body"].read())
    old_model = joblib.load(io.BytesIO(s3.get_object(Bucket=bucket, Key=f"models/iris/{baseline}/model.joblib")["Body"].read()))
    expected = held_out_metrics(old_model, seed=7)
    assert metadata["baseline"] == {"version": baseline, "metrics": expected}
    assert expected != {k: metadata["metrics"][k] for k in expected}  # the weak old model scores below the new one
    assert f"train: baseline {baseline}: accuracy {expected['accuracy']:.4f} on this run's held-out split\n" in result.stdout


@pytest.fixture(scope="module")
def stored_versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Versions under one model folder: iris, wine stored as 'iris', and iris from a CSV (string classes)."""
    output = tmp_path_factory.mktemp("baselines")
    csv_file = output / "iris.csv"
    csv_file.write_bytes(iris_csv())
    names = {}
    for name, data in (("iris", "builtin:iris"), ("wine", "builtin:wine"), ("csv", csv_file.as_uri())):
        result = run_train("--data", data, "--model", "iris", "--output", output.as_uri(), "--min-accuracy", "0")
        assert result.returncode == 0, result.stderr
        names[name] = promoted_version(output / "iris")
    return output, names


def _edit_metadata(version_dir: Path, **changes: Any) -> None:
    metadata = read_json(version_dir / "metadata.json")
    for key, value in changes.items():
        metadata[key] = value(metadata[key]) if callable(value) else value
    (version_dir / "metadata.json").write_text(json.dumps(metadata))


def _tamper(version_dir: Path) -> None:
    with (version_dir / "model.joblib").open("ab") as model:
        model.write(b"\0")


def _not_a_pickle(version_dir: Path) -> None:
    (version_dir / "model.joblib").write_bytes(b"not a pickle at all")
    _edit_metadata(version_dir, sha256=hashlib.sha256(b"not a pickle at all").hexdigest())


@pytest.mark.parametrize(
    ("baseline", "breakage", "reason"),
    [
        pytest.param("absent", None, "baseline not found: {root}/absent/metadata.json", id="missing"),
        pytest.param(
            "iris",
            lambda v: (v / "metadata.json").write_text("{not json"),
            "invalid {root}/{v}/metadata.json: JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
            id="invalid-metadata",
        ),
        pytest.param(
            "iris",
            _tamper,
            "sha256 mismatch for {root}/{v}/model.joblib: metadata says {sha256}, got {actual}",
            id="sha256-mismatch",
        ),
        pytest.param(
            "iris",
            lambda v: _edit_metadata(v, libraries=lambda libs: {**libs, "scikit-learn": "1.0.2"}),
            "library mismatch for {root}/{v}: scikit-learn 1.0.2 (this run has {sklearn})",
            id="other-scikit-learn",
        ),
        pytest.param(
            "iris",
            lambda v: _edit_metadata(v, libraries=lambda libs: {**libs, "numpy": "1.26.4", "xgboost": "3.2.0"}),
            "library mismatch for {root}/{v}: xgboost 3.2.0 (this run has none), numpy 1.26.4 (this run has {numpy})",
            id="libraries-this-image-lacks",
        ),
        pytest.param("iris", _not_a_pickle, "cannot unpickle {root}/{v}/model.joblib: KeyError: 110", id="unloadable"),
        pytest.param("wine", None, "features differ: {v} has 13, this run 4", id="other-features"),
        pytest.param("csv", None, "classes differ: {v} has 'setosa' where this run has 0", id="other-classes"),
    ],
)
def test_a_baseline_that_cannot_be_scored_is_recorded_and_the_run_goes_on(
    tmp_path: Path, stored_versions: tuple[Path, dict[str, str]], baseline: str, breakage: Any, reason: str
) -> None:
    import numpy
    import sklearn

    source, names = stored_versions
    shutil.copytree(source / "iris", tmp_path / "iris")
    version = names.get(baseline, baseline)
    if breakage:
        breakage(tmp_path / "iris" / version)
    result = run_train("--data", "builtin:iris", "--model", "iris", "--output", tmp_path.as_uri(), "--baseline", version)
    assert result.returncode == 0, result.stderr
    promoted = promoted_version(tmp_path / "iris")
    assert promoted not in names.values()  # trained, stored and promoted as without --baseline
    expected = reason.format(
        root=(tmp_path / "iris").as_uri(),
        v=version,
        sha256=read_json(source / "iris" / version / "metadata.json")["sha256"] if baseline in names else "",
        actual=hashlib.sha256((tmp_path / "iris" / version / "model.joblib").read_bytes()).hexdigest() if baseline in names else "",
        sklearn=sklearn.__version__,
        numpy=numpy.__version__,
    )
    assert read_json(tmp_path / "iris" / promoted / "metadata.json")["baseline"] == {"version": version, "error": expected}
    assert f"train: baseline {version} not scored: {expected}\n" in result.stdout


def test_without_a_scorer_or_with_one_that_fails_the_baseline_records_why(stored_versions: tuple[Path, dict[str, str]]) -> None:
    module = contract()
    source, names = stored_versions
    stored = read_json(source / "iris" / names["iris"] / "metadata.json")
    root = (source / "iris").as_uri()

    def trained(score: Any) -> Any:
        return module.Trained(None, {}, {}, stored["features"], stored["classes"], {}, stored["libraries"], score=score)

    def failing(_estimator: Any) -> dict[str, float]:
        raise ValueError("X has 3 features, but the model expects 4")

    assert module.baseline_result(trained(None), root, names["iris"]) == {
        "version": names["iris"],
        "error": "this trainer gives no scorer (Trained.score)",
    }
    assert module.baseline_result(trained(failing), root, names["iris"]) == {
        "version": names["iris"],
        "error": f"cannot score {root}/{names['iris']}: ValueError: X has 3 features, but the model expects 4",
    }
    assert module.baseline_result(trained(failing), root, None) is None
