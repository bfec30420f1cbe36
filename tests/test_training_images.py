"""Which image each project trains with: the built-in trainer's, its own folder's build, or a prebuilt one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, cast

import pytest

from components.config import TrainConfig, projects
from components.config.projects import REPO_ROOT
from components.images import GeneratedBuild, release_tag
from components.training_dockerfile import render_dockerfile, training_tag
from components.training_images import project_build_contexts, project_image_name, training_image_ref
from offline.engine import Recording, run_program, stack_config_with
from tests.manifests import container, env, manifest

PREBUILT = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/digits@sha256:" + "c" * 64
# Any folder of the repository with a Dockerfile builds; the serve image's stands in for a project's own.
OWN_FOLDER = "images/serve"
CONTRACT = REPO_ROOT / "images" / "train"


def test_a_project_image_is_named_for_its_project() -> None:
    assert project_image_name("digits") == "train-digits"


def test_only_a_project_with_a_folder_of_its_own_is_built() -> None:
    trainings = {
        "iris": TrainConfig(source="images/train"),
        "digits": TrainConfig(source=OWN_FOLDER),
        "wine": TrainConfig(image=PREBUILT),
    }
    # A folder with a Dockerfile of its own is built from it: its context is the folder.
    assert project_build_contexts(trainings) == {"train-digits": REPO_ROOT / OWN_FOLDER}


def test_each_project_gets_its_image_by_digest() -> None:
    refs = cast(Any, {"train": "built-in@sha256:a", "train-digits": "own@sha256:b"})
    assert training_image_ref("iris", TrainConfig(source="images/train"), refs) == "built-in@sha256:a"
    assert training_image_ref("digits", TrainConfig(source=OWN_FOLDER), refs) == "own@sha256:b"
    assert training_image_ref("wine", TrainConfig(image=PREBUILT), refs) == PREBUILT


def job_images(run: Recording) -> dict[str, str]:
    return {
        r.name: json.loads(r.inputs["containerProperties"])["image"]
        for r in run.of_type("aws:batch/jobDefinition:JobDefinition")
    }


def images_jobs_are_told(run: Recording) -> dict[str, str | None]:
    """Each job definition's MLOPS_TRAINING_IMAGE, the image its metadata.json records."""
    told: dict[str, str | None] = {}
    for r in run.of_type("aws:batch/jobDefinition:JobDefinition"):
        environment = json.loads(r.inputs["containerProperties"])["environment"]
        told[r.name] = next((e["value"] for e in environment if e["name"] == "MLOPS_TRAINING_IMAGE"), None)
    return told


def test_batch_jobs_run_the_built_in_own_and_prebuilt_images() -> None:
    projects = {"digits": {"train": {"source": OWN_FOLDER}}, "wine": {"train": {"image": PREBUILT}}}
    run = run_program("dev", stack_config_with("dev", {"mlops:projects": projects}))
    built = run.get("docker-build:index:Image", "images-train-digits")
    assert built.inputs["tags"] == [f"{run.outputs['registryUrls']['train']}:{release_tag(REPO_ROOT / OWN_FOLDER)}"]
    assert job_images(run) == {
        "training-iris-job": run.outputs["imageRefs"]["train"],
        "training-digits-job": run.outputs["imageRefs"]["train-digits"],
        "training-wine-job": PREBUILT,
    }
    assert images_jobs_are_told(run) == job_images(run)


def test_a_cronjob_runs_a_prebuilt_image_as_given() -> None:
    changes = {"mlops:compute": {"kind": "none"}, "mlops:projects": {"iris": {"train": {"gpus": 0}}, "wine": {"train": {"image": PREBUILT, "gpus": 0}}}}
    run = run_program("dev", stack_config_with("dev", changes))
    assert container(manifest(run, "CronJob", "wine-train"))["image"] == PREBUILT
    assert env(manifest(run, "CronJob", "wine-train"))["MLOPS_TRAINING_IMAGE"] == PREBUILT
    assert "train-wine" not in run.outputs["imageRefs"], "nothing is built for a prebuilt image"


def test_a_project_may_serve_with_its_own_server_image() -> None:
    own_server = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/server@sha256:" + "d" * 64
    run = run_program("dev", stack_config_with("dev", {"mlops:projects": {"iris": {"serve": {"image": own_server}}}}))
    assert container(manifest(run, "Deployment", "iris-server"))["image"] == own_server


# --- a project folder with an environment file: the generated Dockerfile ------------------------

CONDA_PROJECT = {"train": {"source": "conda", "data": "builtin:digits"}}


@pytest.fixture
def conda_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's training folders (the stack files name them), and one project
    folder more, `conda`: an environment.yml beside train.py. The copy is the repository root
    the config sees, so the test never writes into the checkout."""
    for name in ("images", "projects"):
        shutil.copytree(REPO_ROOT / name, tmp_path / name)
    monkeypatch.setattr(projects, "REPO_ROOT", tmp_path)
    folder = tmp_path / "conda"
    folder.mkdir()
    (folder / "environment.yml").write_text("dependencies:\n  - python=3.11\n  - scikit-learn=1.7.2\n")
    (folder / "train.py").write_text("import mlops_training\n")
    return folder


def test_a_folder_without_a_dockerfile_builds_from_the_generated_one(conda_folder: Path) -> None:
    assert project_build_contexts({"conda": TrainConfig(source="conda")}) == {
        "train-conda": GeneratedBuild(
            context=conda_folder,
            dockerfile=render_dockerfile("environment.yml"),
            named_contexts={"mlops-training": CONTRACT},
            tag=training_tag(conda_folder, CONTRACT),
        )
    }


def test_the_conda_image_is_built_inline_with_the_contract_context_and_its_content_tag(conda_folder: Path) -> None:
    run = run_program("dev", stack_config_with("dev", {"mlops:projects": {"conda": CONDA_PROJECT}}))
    inputs = run.get("docker-build:index:Image", "images-train-conda").inputs
    tag = training_tag(conda_folder, CONTRACT)
    assert inputs["dockerfile"] == {"inline": render_dockerfile("environment.yml")}
    assert inputs["context"] == {"location": str(conda_folder), "named": {"mlops-training": {"location": str(CONTRACT)}}}
    assert inputs["tags"] == [f"{run.outputs['registryUrls']['train']}:{tag}"]
    assert inputs["buildArgs"] == {"IMAGE_TAG": tag}


def test_a_change_in_the_environment_file_changes_the_pushed_tag(conda_folder: Path) -> None:
    def pushed_tag() -> str:
        run = run_program("dev", stack_config_with("dev", {"mlops:projects": {"conda": CONDA_PROJECT}}))
        [tag] = run.get("docker-build:index:Image", "images-train-conda").inputs["tags"]
        return tag.rpartition(":")[2]

    before = training_tag(conda_folder, CONTRACT)
    assert pushed_tag() == before
    (conda_folder / "environment.yml").write_text("dependencies:\n  - python=3.11\n  - scikit-learn=1.7.1\n")
    assert pushed_tag() == training_tag(conda_folder, CONTRACT) != before


def test_the_batch_job_of_a_conda_project_runs_its_own_build(conda_folder: Path) -> None:
    run = run_program("dev", stack_config_with("dev", {"mlops:projects": {"conda": CONDA_PROJECT}}))
    assert run.outputs["imageRefs"]["train-conda"].startswith(f"{run.outputs['registryUrls']['train']}@sha256:")
    assert job_images(run)["training-conda-job"] == run.outputs["imageRefs"]["train-conda"]


def test_the_cronjob_of_a_conda_project_runs_its_own_build_on_the_serving_cluster(conda_folder: Path) -> None:
    changes = {"mlops:compute": {"kind": "none"}, "mlops:projects": {"iris": {"train": {"gpus": 0}}, "conda": {"train": {**CONDA_PROJECT["train"], "gpus": 0}}}}
    run = run_program("dev", stack_config_with("dev", changes))
    assert container(manifest(run, "CronJob", "conda-train"))["image"] == run.outputs["imageRefs"]["train-conda"]


def test_on_gke_the_cronjobs_run_the_conda_build_and_the_prebuilt_image(conda_folder: Path) -> None:
    projects_ = {"conda": CONDA_PROJECT, "wine": {"train": {"image": PREBUILT}}}
    run = run_program("prod", stack_config_with("prod", {"mlops:projects": projects_}))
    assert container(manifest(run, "CronJob", "conda-train"))["image"] == run.outputs["imageRefs"]["train-conda"]
    assert container(manifest(run, "CronJob", "wine-train"))["image"] == PREBUILT
    assert env(manifest(run, "CronJob", "wine-train"))["MLOPS_TRAINING_IMAGE"] == PREBUILT
    assert run.outputs["imageRefs"]["train-conda"].startswith(f"{run.outputs['registryUrls']['train']}@sha256:")
