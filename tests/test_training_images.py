"""Which image each project trains with: the built-in trainer's, its own folder's build, or a prebuilt one."""

from __future__ import annotations

import json
from typing import Any, cast

from components.config import TrainConfig
from components.config.projects import REPO_ROOT
from components.images import release_tag
from components.training_images import project_build_contexts, project_image_name, training_image_ref
from offline.engine import Recording, run_program, stack_config_with
from tests.manifests import container, manifest

PREBUILT = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/digits@sha256:" + "c" * 64
# Any folder of the repository with a Dockerfile builds; the serve image's stands in for a project's own.
OWN_FOLDER = "images/serve"


def test_a_project_image_is_named_for_its_project() -> None:
    assert project_image_name("digits") == "train-digits"


def test_only_a_project_with_a_folder_of_its_own_is_built() -> None:
    trainings = {
        "iris": TrainConfig(source="images/train"),
        "digits": TrainConfig(source=OWN_FOLDER),
        "wine": TrainConfig(image=PREBUILT),
    }
    contexts = project_build_contexts(trainings)
    assert list(contexts) == ["train-digits"]
    assert contexts["train-digits"].as_posix().endswith("/images/serve")


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


def test_a_cronjob_runs_a_prebuilt_image_as_given() -> None:
    changes = {"mlops:compute": {"kind": "none"}, "mlops:projects": {"iris": {"train": {"gpus": 0}}, "wine": {"train": {"image": PREBUILT, "gpus": 0}}}}
    run = run_program("dev", stack_config_with("dev", changes))
    assert container(manifest(run, "CronJob", "wine-train"))["image"] == PREBUILT
    assert "train-wine" not in run.outputs["imageRefs"], "nothing is built for a prebuilt image"


def test_a_project_may_serve_with_its_own_server_image() -> None:
    own_server = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/server@sha256:" + "d" * 64
    run = run_program("dev", stack_config_with("dev", {"mlops:projects": {"iris": {"serve": {"image": own_server}}}}))
    assert container(manifest(run, "Deployment", "iris-server"))["image"] == own_server
