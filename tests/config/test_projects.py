"""The projects section: each project's train (code, data, gate, params) and serve (replicas, CPU quantities)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.config import ProjectConfig, ServeConfig, TrainConfig, cpu_millicores, cpu_quantity, training_data_uri
from components.config import projects
from tests.config.support import iris, parse, problems

DIGEST = "sha256:" + "ab" * 32


def train(**settings: Any) -> TrainConfig:
    project = parse(**iris(**settings)).projects["iris"]
    assert project.train is not None
    return project.train


def serve(**settings: Any) -> ServeConfig:
    project = parse(**iris(serve=settings)).projects["iris"]
    assert project.serve is not None
    return project.serve


def test_training_timeout_defaults_to_an_hour() -> None:
    assert train().timeout_minutes == 60


@pytest.mark.parametrize(
    ("data", "uri"),
    [
        ("builtin:iris", "builtin:iris"),
        ("datasets/iris.csv", "s3://data-bucket/datasets/iris.csv"),
        ("/datasets/iris.csv", "s3://data-bucket/datasets/iris.csv"),
        ("s3://other/x.csv", "s3://other/x.csv"),
    ],
)
def test_training_data_becomes_the_jobs_data_uri(data: str, uri: str) -> None:
    assert training_data_uri(data, "data-bucket") == uri


@pytest.mark.parametrize("data", ["s3://bucket/key.csv", "s3://bucket/dir/key.csv", "datasets/iris.csv", "X", "builtin:wine", "builtin:digits", "builtin:breast_cancer"])
def test_training_data_accepts_these(data: str) -> None:
    assert train(data=data).data == data


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("datasets/a\tb.csv", "must be one line without spaces or control characters"),
        ("datasets/a b.csv", "must be one line without spaces or control characters"),
        ("s3://bucket", "use builtin:<name>, s3://bucket/key, or a key in the data bucket"),
        ("/", "must not be empty"),
        ("", "must not be empty"),
    ],
)
def test_training_data_refuses_these(data: str, reason: str) -> None:
    # Each would reach the training job as a --data it cannot read (or a shell-split argument).
    assert problems(**iris(data=data)) == [f"mlops:projects.iris.train.data: {json.dumps(data)} is invalid: {reason}"]


def test_the_built_in_trainer_is_the_images_train_folder() -> None:
    assert train().uses_builtin_trainer is True
    assert train(source="images/train/").uses_builtin_trainer is True
    assert train(source="images/serve").uses_builtin_trainer is False


def test_a_prebuilt_image_pinned_by_digest_is_used_instead_of_a_source() -> None:
    image = f"registry.example/team/train@{DIGEST}"
    assert parse(projects={"iris": {"train": {"image": image}}}).projects["iris"].train == TrainConfig(image=image)


@pytest.mark.parametrize(
    ("origin", "shown"),
    [({}, "(unset)"), ({"source": "images/train", "image": f"r.example/t@{DIGEST}"}, '"images/train"')],
    ids=["neither", "both"],
)
def test_a_training_needs_exactly_one_of_source_and_image(origin: dict[str, str], shown: str) -> None:
    assert problems(projects={"iris": {"train": origin}}) == [
        f"mlops:projects.iris.train.source: {shown} give exactly one of train.source (a folder) or train.image (by digest)"
    ]


@pytest.mark.parametrize("image", ["r.example/team/train:latest", "r.example/t@sha256:abc"])
def test_a_prebuilt_image_must_be_pinned_by_digest(image: str) -> None:
    assert problems(projects={"iris": {"train": {"image": image}}}) == [
        f'mlops:projects.iris.train.image: "{image}" is invalid: must be an image pinned by digest: '
        "<registry>/<repository>@sha256:<64 hex>"
    ]


def test_a_servers_own_image_must_be_pinned_by_digest_too() -> None:
    # A tag can move under a running stack: the pods of one Deployment could run two servers.
    image = "r.example/team/server:v2"
    assert problems(projects={"iris": {"train": {"source": "images/train"}, "serve": {"image": image}}}) == [
        f'mlops:projects.iris.serve.image: "{image}" is invalid: must be an image pinned by digest: '
        "<registry>/<repository>@sha256:<64 hex>"
    ]


@pytest.mark.parametrize(
    ("source", "reason"),
    [("images/nothing-here", "is not a folder of this repository"), ("../outside", "is not a folder of this repository"),
     ("components", "needs a Dockerfile, or exactly one of environment.yml and requirements.txt beside train.py; it has neither")],
)
def test_a_source_must_be_a_folder_of_the_repository_that_can_be_built(source: str, reason: str) -> None:
    assert problems(**iris(source=source)) == [f'mlops:projects.iris.train.source: "{source}" {reason}']


def test_a_folder_with_an_environment_file_and_train_py_is_a_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(projects, "REPO_ROOT", tmp_path)
    (tmp_path / "conda").mkdir()
    (tmp_path / "conda" / "environment.yml").write_text("dependencies:\n  - numpy=2.4.6\n")
    (tmp_path / "conda" / "train.py").write_text("print('train')\n")
    assert train(source="conda").source_path == tmp_path / "conda"


def test_the_digits_example_is_a_source_by_its_requirements() -> None:
    assert train(source="projects/digits").uses_builtin_trainer is False


BAD_FOLDERS = {
    "both": ({"environment.yml": "{}\n", "requirements.txt": "numpy==2.4.6\n", "train.py": ""},
             "needs a Dockerfile, or exactly one of environment.yml and requirements.txt beside train.py; it has both"),
    "no-entry-point": ({"environment.yml": "{}\n"}, "has environment.yml but no train.py, the training entry point"),
    "ignored": ({"requirements.txt": "numpy==2.4.6\n", "train.py": "", ".dockerignore": "*.py\n"},
                "has a .dockerignore that excludes train.py, which the image needs"),
}


@pytest.mark.parametrize("folder", BAD_FOLDERS)
def test_a_folder_that_cannot_be_built_is_a_config_error_with_its_reason(
    folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, reason = BAD_FOLDERS[folder]
    monkeypatch.setattr(projects, "REPO_ROOT", tmp_path)
    (tmp_path / folder).mkdir()
    for name, text in files.items():
        (tmp_path / folder / name).write_text(text)
    assert problems(**iris(source=folder)) == [f'mlops:projects.iris.train.source: "{folder}" {reason}']


def test_the_gate_and_the_parameters_have_their_defaults_and_take_numbers() -> None:
    assert (train().min_accuracy, train().params) == (0.8, {})
    assert train(minAccuracy=1, params={"C": 0.5, "max_iter": 200, "solver": "lbfgs"}).min_accuracy == 1.0
    assert problems(**iris(minAccuracy=1.5)) == [
        "mlops:projects.iris.train.minAccuracy: 1.5 is invalid: Input should be less than or equal to 1"
    ]


def test_a_parameter_name_must_be_one_word() -> None:
    assert problems(**iris(params={"learning rate": 0.1})) == [
        "mlops:projects.iris.train.params: {\"learning rate\": 0.1} is invalid: 'learning rate' is not a parameter "
        "name (letters, digits, '_', '.', '-')"
    ]


def test_equal_min_and_max_replicas_are_accepted() -> None:
    assert serve(minReplicas=2, maxReplicas=2).max_replicas == 2


@pytest.mark.parametrize(
    ("cpu", "millicores", "quantity", "workers"),
    [(1, 1000, "1", 1), (2, 2000, "2", 2), ("250m", 250, "250m", 1), ("0.5", 500, "500m", 1), (0.5, 500, "500m", 1),
     (1.5, 1500, "1500m", 1)],
)
def test_serving_cpu_is_a_kubernetes_quantity_with_a_worker_per_whole_core(
    cpu: Any, millicores: int, quantity: str, workers: int
) -> None:
    cfg = serve(cpu=cpu)
    assert (cfg.cpu, cfg.cpu_quantity, cfg.workers) == (millicores, quantity, workers)


@pytest.mark.parametrize(
    ("cpu", "reason"),
    [("1 core", "'1 core' is not a Kubernetes CPU quantity such as 250m, 0.5, 1 or 2"),
     (True, "True is not a Kubernetes CPU quantity such as 250m, 0.5, 1 or 2"),
     ("5m", "must be between 10m and 64 cores"), (65, "must be between 10m and 64 cores")],
)
def test_serving_cpu_refuses_these(cpu: Any, reason: str) -> None:
    with pytest.raises(ValueError) as refused:
        cpu_millicores(cpu)
    assert str(refused.value) == reason


def test_a_project_may_only_train_or_only_serve_a_fixed_version() -> None:
    only_train = parse(projects={"iris": {"train": {"source": "images/train"}}}).projects["iris"]
    assert only_train == ProjectConfig(train=TrainConfig(source="images/train"))
    pinned = parse(projects={"iris": {"serve": {"modelVersion": "20260101T000000Z"}}}).projects["iris"]
    assert pinned.train is None and pinned.serve == ServeConfig(model_version="20260101T000000Z")


def test_a_project_that_serves_latest_needs_training() -> None:
    assert problems(projects={"iris": {"serve": {}}}) == [
        'mlops:projects.iris.serve.modelVersion: "latest" needs a fixed version id when the project has no train: '
        "nothing would ever promote one"
    ]


def test_a_project_needs_train_or_serve() -> None:
    assert problems(projects={"iris": {}}) == ["mlops:projects.iris.train: (unset) a project needs train, serve, or both"]


@pytest.mark.parametrize(("millicores", "quantity"), [(250, "250m"), (1000, "1"), (4100, "4100m"), (9000, "9")])
def test_cpu_sums_are_written_as_kubernetes_writes_them(millicores: int, quantity: str) -> None:
    assert cpu_quantity(millicores) == quantity
