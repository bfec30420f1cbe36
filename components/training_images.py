"""Which image each project trains with: the built-in trainer's (`train.source: images/train`),
one built from the project's own folder (its Dockerfile, or one generated for its Conda or pip
environment), or a prebuilt one pinned by digest (`train.image`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pulumi

from components.config import TrainConfig
from components.config.projects import BUILTIN_TRAINER, REPO_ROOT
from components.images import GeneratedBuild
from components.training_dockerfile import generated_build

BUILTIN_IMAGE = "train"
"""The image the stack builds from images/train (the `train` repository's own)."""
CONTRACT_FOLDER = REPO_ROOT / BUILTIN_TRAINER
"""The folder that holds the training contract module: a generated build's named context."""


def project_image_name(project: str) -> str:
    """The image built from a project's own folder; pushed to the `train` repository."""
    return f"train-{project}"


def project_build_contexts(trainings: Mapping[str, TrainConfig]) -> dict[str, Path | GeneratedBuild]:
    """How each project that trains from a folder of its own is built: from the folder's Dockerfile,
    or, in a folder without one, from the Dockerfile generated for its environment file."""
    return {
        project_image_name(project): _folder_build(train.source_path)
        for project, train in trainings.items()
        if train.source_path is not None and not train.uses_builtin_trainer
    }


def _folder_build(folder: Path) -> Path | GeneratedBuild:
    return folder if (folder / "Dockerfile").is_file() else generated_build(folder, CONTRACT_FOLDER)


def training_image_ref(project: str, train: TrainConfig, refs: Mapping[str, pulumi.Output[str]]) -> pulumi.Input[str]:
    """The project's training image by digest: as given, the built-in one, or its own build."""
    if train.image is not None:
        return train.image
    return refs[BUILTIN_IMAGE if train.uses_builtin_trainer else project_image_name(project)]
