"""One project's DAG end to end with `airflow dags test` (Airflow's own runner, in .venv-airflow, on
sqlite), against S3, SNS, SQS and ECR on loopback (moto), with the real trainer through the
documented seam (MLOPS_PIPELINE_LOCAL_TRAINER) and the real model server:

- a first run promotes and rolls out: the running server serves the new version;
- a worse second run is not promoted, LATEST stays, and the topic hears why, with both figures;
- a reproduction of the first run's version records it, and matches: same metrics, same predictions;
- a run on bad data fails validate_data, and the topic hears what failed, where the log is, how to re-run.

Each step's time is printed (pytest -s); the whole file is meant to stay near a minute.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
import pytest

from tests.images.conftest import TRAIN, Server, iris, launch_server, run_train
from tests.loopback import Moto
from tests.pipeline.support import REST_TRIGGER, airflow_bin, airflow_env, runtime_for, stack_spec, write_spec

PROJECT = "iris"
PARAMS = {"C": 1.0, "max_iter": 1000}  # the project's train.params: what a run's conf may set
WORSE = {"C": 0.05}  # passes the 0.8 gate on iris (0.8667) but scores below C=1.0 (0.9333) on the same rows
SEED_PARAMS = ["--param", "C=0.001", "--min-accuracy", "0"]  # the version served before the first run: 0.7667
RUN_BOUND_SECONDS = 180


def timed(what: str, started: float) -> None:
    print(f"\n[e2e] {what}: {time.monotonic() - started:.1f}s")


@dataclass
class Run:
    run_id: str
    result: subprocess.CompletedProcess[str]

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


@dataclass
class Stack:
    """What the runs share: the bucket, topic and queue on moto, Airflow's home, the server."""

    moto: Moto
    bucket: str
    queue_url: str
    env: dict[str, str]
    server: Server
    data_version: str
    served_first: str  # trained outside the pipeline, served when the first run starts
    messages: list[dict[str, str]] = field(default_factory=list)
    days: Iterator[int] = field(default_factory=lambda: iter(range(1, 29)))

    def s3(self) -> Any:
        return self.moto.client("s3")

    def latest(self) -> str:
        return self.s3().get_object(Bucket=self.bucket, Key=f"models/{PROJECT}/LATEST")["Body"].read().decode().strip()

    def metadata(self, version: str) -> dict[str, Any]:
        body = self.s3().get_object(Bucket=self.bucket, Key=f"models/{PROJECT}/{version}/metadata.json")["Body"].read()
        return json.loads(body)

    def version_of(self, run: Run) -> dict[str, Any]:
        listed = self.s3().list_objects_v2(Bucket=self.bucket, Prefix=f"models/{PROJECT}/", Delimiter="/")
        stored = [self.metadata(p["Prefix"].split("/")[2]) for p in listed.get("CommonPrefixes", [])]
        found = [m for m in stored if m["run_id"] == run.run_id]
        assert len(found) == 1, f"{len(found)} versions record run {run.run_id}:\n{run.output[-3000:]}"
        return found[0]

    def received(self, subject: str) -> dict[str, str]:
        """The topic's message with this subject (SNS delivers it to the SQS queue subscribed to the topic)."""
        sqs = self.moto.client("sqs")
        while batch := sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                self.messages.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        found = [m for m in self.messages if m["Subject"] == subject]
        assert len(found) == 1, f"{len(found)} messages with subject {subject!r}; all: {[m['Subject'] for m in self.messages]}"
        return found[0]

    def run(self, conf: dict[str, Any]) -> Run:
        """`airflow dags test` of one run, on a logical date of its own (its data interval)."""
        logical_date = f"2026-12-{next(self.days):02d}T03:00:00+00:00"
        started = time.monotonic()
        result = subprocess.run(
            [str(airflow_bin("airflow")), "dags", "test", PROJECT, logical_date, "--conf", json.dumps(conf)],
            env=self.env, capture_output=True, text=True, timeout=RUN_BOUND_SECONDS, check=False,
        )
        timed(f"airflow dags test, conf {json.dumps(conf)}: exit {result.returncode}", started)
        found = re.search(r"DagRun Finished: dag_id=iris, logical_date=[^,]+, run_id=([^,]+),", result.stdout + result.stderr)
        assert found, (result.stdout + result.stderr)[-5000:]
        return Run(found.group(1), result)


def iris_csv() -> bytes:
    data = iris()
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["sepal_length", "sepal_width", "petal_length", "petal_width", "target"])
    writer.writerows([*row, int(label)] for row, label in zip(data.data, data.target))
    return text.getvalue().encode()


def ecr_image(moto: Moto) -> str:
    """An image in ECR on moto, by digest: what the runtime names and a reproduction checks is still there."""
    ecr = moto.client("ecr")
    ecr.create_repository(repositoryName="mlops-e2e-iris")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "sha256:" + "2" * 64},
                "layers": []}
    image = ecr.put_image(repositoryName="mlops-e2e-iris", imageManifest=json.dumps(manifest), imageTag="src-e2e")["image"]
    return f"{image['registryId']}.dkr.ecr.us-east-1.amazonaws.com/mlops-e2e-iris@{image['imageId']['imageDigest']}"


@pytest.fixture(scope="module")
def stack(moto: Moto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = time.monotonic()
    home = tmp_path_factory.mktemp("airflow")
    bucket = moto.versioned_bucket("e2e-", "pipeline")
    s3 = moto.client("s3")
    data_version = s3.put_object(Bucket=bucket, Key="datasets/iris.csv", Body=iris_csv())["VersionId"]
    s3.put_object(Bucket=bucket, Key="datasets/one-class.csv", Body=iris_csv().replace(b",2\r\n", b",1\r\n").replace(b",0\r\n", b",1\r\n"))
    sns, sqs = moto.client("sns"), moto.client("sqs")
    topic = sns.create_topic(Name="mlops-e2e-notifications")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="mlops-e2e-oncall")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    # The version served before the pipeline's first run, trained and promoted by the CLI.
    seeded = run_train("--data", f"s3://{bucket}/datasets/iris.csv", "--model", PROJECT, "--output", f"s3://{bucket}/models", *SEED_PARAMS, env=moto.env())
    assert seeded.returncode == 0, seeded.stderr
    served_first = s3.get_object(Bucket=bucket, Key=f"models/{PROJECT}/LATEST")["Body"].read().decode().strip()
    # The server follows nothing by itself (MODEL_POLL_SECONDS=0): only roll_out's load call can switch it.
    server = launch_server(f"s3://{bucket}/models/{PROJECT}/LATEST", home / "server.log", workers=2, env=moto.env(MODEL_POLL_SECONDS="0"))
    timed("bucket, topic, queue, image, the first version and the server", started)

    spec = stack_spec("dev", **{"mlops:projects": {PROJECT: {"train": {"data": "datasets/iris.csv", "params": PARAMS}}}})
    runtime = runtime_for(spec, bucket=bucket, serving_url=server.url, image=ecr_image(moto))
    runtime["topic_arn"] = topic
    aws = {k: v for k, v in moto.env().items() if k.startswith("AWS_")}
    env = airflow_env(home, write_spec(spec, home / "pipeline.json"), runtime, **aws, MLOPS_PIPELINE_LOCAL_TRAINER=f"{sys.executable} {TRAIN}")
    started = time.monotonic()
    migrated = subprocess.run([str(airflow_bin("airflow")), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    timed("airflow db migrate (sqlite)", started)
    try:
        yield Stack(moto, bucket, queue_url, env, server, data_version, served_first)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def first(stack: Stack) -> Run:
    return stack.run({})


@pytest.fixture(scope="module")
def worse(stack: Stack, first: Run) -> Run:
    return stack.run({"params": WORSE})


@pytest.fixture(scope="module")
def reproduction(stack: Stack, first: Run) -> Run:
    return stack.run({"reproduce": stack.version_of(first)["version"]})


def test_a_first_run_trains_on_the_pinned_data_and_is_promoted(stack: Stack, first: Run) -> None:
    assert first.result.returncode == 0, first.output[-5000:]
    version = stack.version_of(first)
    assert stack.latest() == version["version"] != stack.served_first
    assert version["data"]["version_id"] == stack.data_version
    assert version["data"]["uri"] == f"s3://{stack.bucket}/datasets/iris.csv"  # read at ?versionId=<that version>
    assert (version["training"]["seed"], version["training"]["params"], version["gate"]["promote"]) == (42, PARAMS, False)
    assert version["baseline"]["version"] == stack.served_first  # scored on this run's held-out rows


def test_the_roll_out_reaches_the_running_server(stack: Stack, first: Run) -> None:
    assert first.result.returncode == 0, first.output[-5000:]
    promoted = stack.version_of(first)["version"]
    answer = stack.server.get(f"/v2/models/{PROJECT}").json()
    assert answer["versions"] == [promoted]


def test_a_worse_run_is_not_promoted_and_the_topic_hears_both_figures(stack: Stack, first: Run, worse: Run) -> None:
    assert worse.result.returncode == 0, worse.output[-5000:]
    kept, rejected = stack.version_of(first), stack.version_of(worse)
    assert stack.latest() == kept["version"]
    assert rejected["gate"]["passed"] is True and rejected["metrics"]["accuracy"] < kept["metrics"]["accuracy"]
    # The served version, scored again on this run's held-out rows: the rows it was first scored on.
    assert rejected["baseline"] == {"version": kept["version"], "metrics": {k: kept["metrics"][k] for k in ("accuracy", "f1_macro")}}
    message = stack.received(f"[dev] {PROJECT}: {rejected['version']} not promoted")["Message"].splitlines()
    assert f"new version:    {rejected['version']}  accuracy {rejected['metrics']['accuracy']:.4f}" in message
    assert f"served version: {kept['version']}  accuracy {kept['metrics']['accuracy']:.4f}" in message
    assert stack.server.get(f"/v2/models/{PROJECT}").json()["versions"] == [kept["version"]]


def test_a_reproduction_records_what_it_reproduces_and_matches_it(stack: Stack, first: Run, reproduction: Run) -> None:
    assert reproduction.result.returncode == 0, reproduction.output[-5000:]
    original, again = stack.version_of(first), stack.version_of(reproduction)
    assert again["reproduces"] == original["version"]
    assert (again["data"], again["training"], again["image"]) == (original["data"], original["training"], original["image"])
    assert again["metrics"] == original["metrics"]
    # The same predictions: on every row, so on the held-out ones; the bytes may differ (pickling is not canonical).
    models = [joblib.load(io.BytesIO(stack.s3().get_object(Bucket=stack.bucket, Key=f"models/{PROJECT}/{v['version']}/model.joblib")["Body"].read()))
              for v in (original, again)]
    assert np.array_equal(models[0].predict(iris().data), models[1].predict(iris().data))
    assert stack.latest() == original["version"]  # a reproduction is never promoted
    message = stack.received(f"[dev] {PROJECT}: {again['version']} not promoted")["Message"]
    assert f"reproduces {original['version']}: matches; a reproduction is never promoted" in message


def test_a_run_on_bad_data_fails_before_training_and_the_topic_hears_what_to_do(stack: Stack, first: Run) -> None:
    before = stack.latest()
    failed = stack.run({"data": f"s3://{stack.bucket}/datasets/one-class.csv"})
    assert failed.result.returncode != 0
    lines = stack.received(f"[dev] {PROJECT}: validate_data failed")["Message"].splitlines()
    assert f"run:      {failed.run_id}" in lines
    assert (
        f"error:    AirflowFailException: s3://{stack.bucket}/datasets/one-class.csv: label 'target' has 1 class(es); "
        "a classifier needs at least 2"
    ) in lines
    assert f"log:      s3://{stack.bucket}/airflow/logs/dag_id={PROJECT}/run_id={failed.run_id}/task_id=validate_data/attempt=1.log" in lines
    assert "try:      1 (not retried: a retry would fail the same way)" in lines
    assert stack.latest() == before


def test_over_rest_a_bad_conf_is_refused_with_its_reason_and_a_good_one_queues_a_run(stack: Stack) -> None:
    started = time.monotonic()
    airflow = str(airflow_bin("airflow"))
    serialized = subprocess.run([airflow, "dags", "reserialize"], env=stack.env, capture_output=True, text=True, timeout=RUN_BOUND_SECONDS, check=False)
    assert serialized.returncode == 0, serialized.stdout + serialized.stderr
    confs = [{"params": {"gamma": 0.1}}, {"data": "ftp://example.com/iris.csv"}, {"params": WORSE}]
    env = {**stack.env, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"}
    answered = subprocess.run([str(airflow_bin("python")), str(REST_TRIGGER), PROJECT, json.dumps(confs)],
                              env=env, capture_output=True, text=True, timeout=RUN_BOUND_SECONDS, check=False)
    timed("airflow dags reserialize, then three POST /api/v2/dags/iris/dagRuns", started)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    gamma, ftp, good = json.loads(answered.stdout.strip().splitlines()[-1])
    assert gamma["status"] == 400
    assert gamma["body"]["detail"].splitlines()[0] == "Invalid input for param params: Additional properties are not allowed ('gamma' was unexpected)"
    assert (ftp["status"], ftp["body"]["detail"].splitlines()[0].split(" does not match ")[0]) == (
        400, "Invalid input for param data: 'ftp://example.com/iris.csv'"
    )
    assert (good["status"], good["body"]["state"], good["body"]["conf"], good["body"]["triggered_by"]) == (200, "queued", {"params": WORSE}, "rest_api")
