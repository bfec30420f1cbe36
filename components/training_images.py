"""Which image each project trains with: the built-in trainer's (`train.source: images/train`),
one built from the project's own folder, or a prebuilt one pinned by digest (`train.image`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pulumi

from components.config import TrainConfig

BUILTIN_IMAGE = "train"
"""The image the stack builds from images/train (the `train` repository's own)."""


def project_image_name(project: str) -> str:
    """The image built from a project's own folder; pushed to the `train` repository."""
    return f"train-{project}"


def project_build_contexts(trainings: Mapping[str, TrainConfig]) -> dict[str, Path]:
    """The build context of each project that trains from a folder of its own."""
    return {
        project_image_name(project): train.source_path
        for project, train in trainings.items()
        if train.source_path is not None and not train.uses_builtin_trainer
    }


def training_image_ref(project: str, train: TrainConfig, refs: Mapping[str, pulumi.Output[str]]) -> pulumi.Input[str]:
    """The project's training image by digest: as given, the built-in one, or its own build."""
    if train.image is not None:
        return train.image
    return refs[BUILTIN_IMAGE if train.uses_builtin_trainer else project_image_name(project)]
