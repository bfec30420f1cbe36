"""The pipeline's checks on S3 (on loopback), each refusal with its reason: validate_data's data check,
a reproduction's checks on what it needs, evaluate's decision, promote's guard, and the messages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mlops_pipeline import data_check, gate, notify, reproduce, rollout, settings, versions
from mlops_pipeline.errors import Refused

from tests.loopback import Moto

V1, V2, V3 = "20261201T030000000000Z-0a1b2c3d", "20261202T030000000000Z-1b2c3d4e", "20261203T030000000000Z-2c3d4e5f"
IRIS_HEADER = "sepal_length,sepal_width,petal_length,petal_width,target\n"


def csv_rows(rows: int, classes: int = 3) -> str:
    return IRIS_HEADER + "".join(f"{i / 10},{i % 7},{i % 5},0.2,{i % classes}\n" for i in range(rows))


def put(moto: Moto, bucket: str, key: str, body: str | bytes) -> str:
    return moto.client("s3").put_object(Bucket=bucket, Key=key, Body=body)["VersionId"]


def metadata(version: str, accuracy: float, **extra: Any) -> dict[str, Any]:
    return {"version": version, "metrics": {"accuracy": accuracy, "f1_macro": accuracy}, "gate": {"min_accuracy": 0.8, "passed": accuracy >= 0.8},
            "baseline": None, "reproduces": None, "run_id": None, **extra}


def store(moto: Moto, bucket: str, meta: dict[str, Any]) -> None:
    put(moto, bucket, f"models/iris/{meta['version']}/metadata.json", json.dumps(meta))


# --- validate_data -----------------------------------------------------------------------


def test_sane_data_is_pinned_to_the_version_read(moto: Moto, bucket: str) -> None:
    version_id = put(moto, bucket, "datasets/iris.csv", csv_rows(30))
    put(moto, bucket, "datasets/iris.csv", csv_rows(40))  # a newer version: the check reads the one asked for
    checked = data_check.check_data(moto.client("s3"), f"s3://{bucket}/datasets/iris.csv", version_id)
    assert (checked.version_id, checked.rows, checked.label, checked.classes) == (version_id, 30, "target", 3)
    assert data_check.check_data(moto.client("s3"), f"s3://{bucket}/datasets/iris.csv", None).rows == 40


def test_a_run_reads_the_data_version_current_at_its_interval_end(moto: Moto, bucket: str) -> None:
    import time

    s3, key = moto.client("s3"), "datasets/iris.csv"
    uri = f"s3://{bucket}/{key}"
    first = put(moto, bucket, key, csv_rows(30))
    time.sleep(1.1)  # S3 times versions to the second
    second = put(moto, bucket, key, csv_rows(40))
    listed = {v["VersionId"]: v["LastModified"] for v in s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]}
    assert data_check.version_at(s3, uri, listed[first]) == first  # a run of the first interval, cleared later
    assert data_check.version_at(s3, uri, listed[second]) == second
    assert data_check.version_at(s3, uri, listed[first].replace(year=2000)) is None  # written after: today's is read
    assert data_check.version_at(s3, "builtin:iris", listed[first]) is None
    time.sleep(1.1)
    s3.delete_object(Bucket=bucket, Key=key)
    deleted_at = max(m["LastModified"] for m in s3.list_object_versions(Bucket=bucket, Prefix=key)["DeleteMarkers"])
    with pytest.raises(Refused, match=r"was deleted at the end of this run's data interval"):
        data_check.version_at(s3, uri, deleted_at)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "is empty: a CSV needs a header row and data rows"),
        ("target\n" + "1\n" * 30, "has no feature column beside its label 'target' (header: target)"),
        (csv_rows(5), "has 5 data rows; training needs at least 20"),
        (csv_rows(30, classes=1), "label 'target' has 1 class(es); a classifier needs at least 2"),
        (csv_rows(30).replace("0.2,1\n", "wide,1\n", 1), "line 3: feature 'petal_width' is not a number: 'wide'"),
        (csv_rows(30) + "1,2\n", "line 32 has 2 fields; the header has 5"),
    ],
    ids=["empty", "label only", "too few rows", "one class", "non-numeric", "ragged"],
)
def test_bad_data_is_refused_with_the_first_problem(moto: Moto, bucket: str, body: str, reason: str) -> None:
    put(moto, bucket, "datasets/bad.csv", body)
    with pytest.raises(Refused) as refused:
        data_check.check_data(moto.client("s3"), f"s3://{bucket}/datasets/bad.csv", None)
    assert str(refused.value).endswith(reason), str(refused.value)


def test_missing_data_and_a_missing_version_are_refused(moto: Moto, bucket: str) -> None:
    s3 = moto.client("s3")
    with pytest.raises(Refused, match=rf"^data not found: s3://{bucket}/datasets/none.csv$"):
        data_check.check_data(s3, f"s3://{bucket}/datasets/none.csv", None)
    put(moto, bucket, "datasets/iris.csv", csv_rows(30))
    with pytest.raises(Refused, match="does not exist: a superseded version is deleted storage.noncurrentVersionDays after"):
        data_check.check_data(s3, f"s3://{bucket}/datasets/iris.csv", "3HL4kqtJlcpXroDTDmJ")


def test_builtin_data_passes_and_takes_no_data_version(moto: Moto) -> None:
    assert data_check.check_data(moto.client("s3"), "builtin:iris", None).version_id is None
    with pytest.raises(Refused, match="data_version 'v1' is for s3:// data, not builtin:iris"):
        data_check.check_data(moto.client("s3"), "builtin:iris", "v1")


# --- a reproduction's checks -------------------------------------------------------------


def image_in(moto: Moto, repository: str) -> str:
    ecr = moto.client("ecr")
    ecr.create_repository(repositoryName=repository)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"digest": "sha256:" + "1" * 64, "size": 1, "mediaType": "application/vnd.docker.container.image.v1+json"}, "layers": []})
    digest = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag="t1")["image"]["imageId"]["imageDigest"]
    return f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{repository}@{digest}"


def test_a_reproduction_takes_the_versions_data_version_parameters_seed_and_image(moto: Moto, bucket: str) -> None:
    data_version = put(moto, bucket, "datasets/iris.csv", csv_rows(30))
    image = image_in(moto, f"{bucket}-ok")
    training = {"seed": 7, "params": {"C": 0.5, "max_iter": 1000}}
    store(moto, bucket, metadata(V1, 0.9, image=image, training=training,
                                 data={"uri": f"s3://{bucket}/datasets/iris.csv?versionId={data_version}", "version_id": data_version}))
    found = reproduce.original(moto.client("s3"), bucket, "iris", V1)
    assert found == reproduce.Original(V1, f"s3://{bucket}/datasets/iris.csv", data_version, {"C": 0.5, "max_iter": 1000}, 7, image)
    reproduce.check_data_version(moto.client("s3"), found)
    assert reproduce.check_image(lambda region: moto.client("ecr"), found) is True


def test_a_version_that_does_not_exist_is_refused(moto: Moto, bucket: str) -> None:
    with pytest.raises(Refused, match=rf"^version {V1} of iris does not exist: no s3://{bucket}/models/iris/{V1}/metadata.json$"):
        reproduce.original(moto.client("s3"), bucket, "iris", V1)


def test_a_version_whose_data_version_expired_is_refused(moto: Moto, bucket: str) -> None:
    s3 = moto.client("s3")
    old = put(moto, bucket, "datasets/iris.csv", csv_rows(30))
    put(moto, bucket, "datasets/iris.csv", csv_rows(40))
    s3.delete_object(Bucket=bucket, Key="datasets/iris.csv", VersionId=old)  # what noncurrentVersionDays does
    found = reproduce.Original(V1, f"s3://{bucket}/datasets/iris.csv", old, {}, 42, "i")
    with pytest.raises(Refused) as refused:
        reproduce.check_data_version(s3, found)
    assert str(refused.value) == (
        f"version {V1} can no longer be reproduced: its data, s3://{bucket}/datasets/iris.csv version {old}, has expired "
        "(superseded versions are kept storage.noncurrentVersionDays days)"
    )


def test_a_version_whose_image_is_gone_is_refused(moto: Moto, bucket: str) -> None:
    image = image_in(moto, f"{bucket}-gone")
    digest = image.rsplit("@", 1)[1]
    moto.client("ecr").batch_delete_image(repositoryName=f"{bucket}-gone", imageIds=[{"imageDigest": digest}])  # what keepImages does
    found = reproduce.Original(V1, "builtin:iris", None, {}, 42, image)
    reproduce.check_data_version(moto.client("s3"), found)  # builtin data: always there
    with pytest.raises(Refused, match=r"its image .* is gone \(the registry keeps the newest registry.keepImages images\)$"):
        reproduce.check_image(lambda region: moto.client("ecr"), found)


def test_a_version_made_outside_the_platform_has_no_image_to_run_again(moto: Moto, bucket: str) -> None:
    store(moto, bucket, metadata(V1, 0.9, image=None, data={"uri": "builtin:iris"}))
    with pytest.raises(Refused, match="records no image"):
        reproduce.original(moto.client("s3"), bucket, "iris", V1)


def test_an_image_in_another_registry_is_left_to_the_pull() -> None:
    found = reproduce.Original(V1, "builtin:iris", None, {}, 42, "us-central1-docker.pkg.dev/p/r/train@sha256:" + "0" * 64)
    assert reproduce.check_image(lambda region: pytest.fail("no ECR call for another registry"), found) is False


# --- evaluate --------------------------------------------------------------------------


def test_the_first_version_is_promoted_when_it_passes_the_gate() -> None:
    decision = gate.decide(metadata(V1, 0.9), margin=0.0, baseline_recorded=None)
    assert (decision.promote, decision.reason) == (True, "accuracy 0.9000 passes the gate and no version is served yet")


@pytest.mark.parametrize(("accuracy", "margin", "promote"), [(0.9, 0.0, True), (0.9, 0.01, False), (0.92, 0.02, True), (0.89, 0.0, False)])
def test_a_new_version_must_match_the_baseline_on_the_same_rows_plus_the_margin(accuracy: float, margin: float, promote: bool) -> None:
    meta = metadata(V2, accuracy, baseline={"version": V1, "metrics": {"accuracy": 0.9}})
    decision = gate.decide(meta, margin=margin, baseline_recorded=None)
    assert (decision.promote, decision.baseline, decision.baseline_accuracy) == (promote, V1, 0.9)


def test_a_baseline_that_could_not_be_scored_is_compared_by_its_recorded_accuracy_and_the_reason_says_so() -> None:
    meta = metadata(V2, 0.95, baseline={"version": V1, "error": "library mismatch: scikit-learn 1.5.0"})
    decision = gate.decide(meta, margin=0.0, baseline_recorded=metadata(V1, 0.97))
    assert (decision.promote, decision.baseline_accuracy) == (False, 0.97)
    assert decision.reason == (
        f"accuracy 0.9500 < 0.9700: the served version {V1} scores 0.9700 as recorded when it was made "
        "(it could not be scored on this run's held-out data: library mismatch: scikit-learn 1.5.0), plus the margin 0.0"
    )


def test_a_version_below_its_gate_is_not_promoted_whatever_the_baseline() -> None:
    decision = gate.decide(metadata(V2, 0.5), margin=0.0, baseline_recorded=None)
    assert (decision.promote, decision.reason) == (False, "accuracy 0.5000 is below the gate (0.8)")


def test_a_reproduction_is_never_promoted_and_says_whether_it_matches() -> None:
    same = gate.decide(metadata(V2, 0.9, reproduces=V1), margin=0.0, baseline_recorded=metadata(V1, 0.9))
    assert (same.promote, same.reason) == (False, f"reproduces {V1}: matches; a reproduction is never promoted")
    other = gate.decide(metadata(V2, 0.9, reproduces=V1), margin=0.0, baseline_recorded=metadata(V1, 0.8))
    assert other.reason == f"reproduces {V1}: does NOT match (accuracy: 0.8 -> 0.9, f1_macro: 0.8 -> 0.9); a reproduction is never promoted"


def test_evaluate_finds_the_version_its_run_stored(moto: Moto, bucket: str) -> None:
    for version, run_id in ((V1, "scheduled__1"), (V2, "manual__2"), (V3, "scheduled__3")):
        store(moto, bucket, metadata(version, 0.9, run_id=run_id))
    assert versions.version_of_run(moto.client("s3"), bucket, "iris", "manual__2")["version"] == V2
    with pytest.raises(Refused, match="records run id 'manual__9': the train task stored none"):
        versions.version_of_run(moto.client("s3"), bucket, "iris", "manual__9")


# --- promote ---------------------------------------------------------------------------


def latest(moto: Moto, bucket: str) -> str:
    return moto.client("s3").get_object(Bucket=bucket, Key="models/iris/LATEST")["Body"].read().decode()


def test_promote_writes_latest_and_a_second_promote_is_a_no_op(moto: Moto, bucket: str) -> None:
    s3 = moto.client("s3")
    assert versions.promote(s3, bucket, "iris", V1, expected=None) == "promoted 20261201T030000000000Z-0a1b2c3d (LATEST named nothing)"
    assert latest(moto, bucket) == f"{V1}\n"
    assert versions.promote(s3, bucket, "iris", V1, expected=None) == f"LATEST already names {V1}: nothing to do"
    versions.promote(s3, bucket, "iris", V2, expected=V1)
    assert latest(moto, bucket) == f"{V2}\n"


def test_promote_refuses_when_latest_moved_since_train_started(moto: Moto, bucket: str) -> None:
    put(moto, bucket, "models/iris/LATEST", f"{V3}\n")  # a rollback, or another run, since
    with pytest.raises(Refused, match=f"LATEST moved from {V1} to {V3} since this run's train started"):
        versions.promote(moto.client("s3"), bucket, "iris", V2, expected=V1)
    assert latest(moto, bucket) == f"{V3}\n"


# --- the messages ----------------------------------------------------------------------


def test_a_failure_message_says_what_failed_where_the_log_is_and_how_to_run_it_again() -> None:
    message = notify.task_failed(stack="dev", project="iris", bucket="b", task_id="validate_data", run_id="manual__1",
                                 try_number=1, max_tries=2, error="AirflowFailException: data not found: s3://b/d.csv")
    assert message.subject == "[dev] iris: validate_data failed"
    lines = message.body.splitlines()
    assert "error:    AirflowFailException: data not found: s3://b/d.csv" in lines
    assert "log:      s3://b/airflow/logs/dag_id=iris/run_id=manual__1/task_id=validate_data/attempt=1.log" in lines
    assert "try:      1 (not retried: a retry would fail the same way)" in lines
    assert any("/api/v2/dags/iris/clearTaskInstances" in line for line in lines)
    retried = notify.task_failed(stack="dev", project="iris", bucket="b", task_id="train", run_id="r", try_number=3, max_tries=2, error="e")
    assert "try:      3 of 3 (no retry left)" in retried.body.splitlines()
    assert "Nothing was promoted by this run: LATEST and the served version are as they were." in retried.body.splitlines()
    rolled = notify.task_failed(stack="dev", project="iris", bucket="b", task_id="roll_out", run_id="r", try_number=3, max_tries=2, error="e")
    assert notify.AFTER_PROMOTE in rolled.body.splitlines()


def test_a_not_promoted_message_gives_both_figures() -> None:
    decision = gate.decide(metadata(V2, 0.8, baseline={"version": V1, "metrics": {"accuracy": 0.9667}}), margin=0.0, baseline_recorded=None)
    message = notify.not_promoted(stack="dev", project="iris", run_id="manual__2", decision=decision.as_dict())
    assert message.subject == f"[dev] iris: {V2} not promoted"
    assert f"new version:    {V2}  accuracy 0.8000" in message.body.splitlines()
    assert f"served version: {V1}  accuracy 0.9667" in message.body.splitlines()


# --- roll_out's endpoints --------------------------------------------------------------


def test_roll_out_calls_every_ready_endpoint_of_the_services_slices() -> None:
    slices = [
        {"ports": [{"name": "http", "port": 8080}], "endpoints": [
            {"addresses": ["10.0.0.7"], "conditions": {"ready": True}},
            {"addresses": ["10.0.0.8"], "conditions": {"ready": False}},  # starting, or terminating: it reads LATEST itself
        ]},
        {"ports": [{"name": "http", "port": 8080}], "endpoints": [{"addresses": ["fd00::5"], "conditions": {"ready": True}}]},
        {"ports": [{"port": 8080}], "endpoints": None},
    ]
    assert rollout.ready_endpoints(slices) == ["http://10.0.0.7:8080", "http://[fd00::5]:8080"]


def test_the_service_is_read_from_the_serving_url() -> None:
    p = settings.projects(
        {"stack": "dev", "train_on": "batch", "promote_margin": 0, "runnable_timeout_minutes": 30, "projects": {"iris": {"served": True}}},
        {"region": "us-east-1", "bucket": "b", "topic_arn": "t", "workloads_namespace": "mlops-dev", "job_queue": "q",
         "projects": {"iris": {"serving_url": "http://iris-server.mlops-dev.svc:8080"}}},
    )[0]
    assert p.service == ("iris-server", "mlops-dev")


def test_a_spec_project_the_runtime_lacks_fails_the_dag_file_with_its_name() -> None:
    with pytest.raises(RuntimeError, match=r"MLOPS_PIPELINE_RUNTIME has no entry for project\(s\) digits of pipeline.json"):
        settings.projects({"projects": {"digits": {}}}, {"projects": {}})


def test_roll_out_sends_a_public_servers_token_on_every_call() -> None:
    import http.server
    import threading

    seen: list[tuple[str, str | None]] = []

    class Server(http.server.BaseHTTPRequestHandler):
        def answer(self, body: dict[str, Any]) -> None:
            seen.append((f"{self.command} {self.path}", self.headers.get("Authorization")))
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.answer({"version": "v2"})

        def do_GET(self) -> None:  # noqa: N802
            self.answer({"versions": ["v2"]})

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class names it)
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert rollout.roll_out([base], "iris", "v2", token="s3cret") == [f"{base} loaded v2"]
    finally:
        server.shutdown()
    assert seen[0] == ("POST /v2/repository/models/iris/load", "Bearer s3cret")
    assert {auth for _, auth in seen} == {"Bearer s3cret"} and len(seen) == 5  # the load, then 4 answers in a row


def test_the_token_secrets_key_is_the_one_the_server_reads() -> None:
    from components.serving import TOKEN_KEY

    assert rollout.TOKEN_KEY == TOKEN_KEY
