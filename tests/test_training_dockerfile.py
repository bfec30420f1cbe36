"""The generated Dockerfile of a training project folder (Conda or pip), and its content tag.

Neither form is built here: there is no Docker engine and no Conda channel. What can be
checked without them is the linters, the exact instructions, and the tag.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from components import training_dockerfile
from components.images import DockerIgnore
from components.registry import RELEASE_TAG_PREFIX
from components.training_dockerfile import environment_file, render_dockerfile, training_tag
from tests.images.test_dockerfiles import VENV_BIN, assert_checkov_is_clean, instructions

REPO = Path(__file__).resolve().parents[1]
CONTRACT_CONTEXT = REPO / "images" / "train"
FORMS = ["environment.yml", "requirements.txt"]

RUNTIME = [
    ("RUN", "useradd --system --no-log-init --uid 10001 --no-create-home --shell /usr/sbin/nologin train"),
    ("COPY", "--from=mlops-training mlops_training.py /opt/mlops/mlops_training.py"),
    ("COPY", ". /app/"),
    ("USER", "10001"),
]
EXPECTED = {
    "environment.yml": [
        ("FROM", "mambaorg/micromamba:2.5.0-debian12-slim"),
        ("COPY", "--chown=$MAMBA_USER:$MAMBA_USER environment.yml /tmp/environment.yml"),
        ("RUN", "micromamba install --yes --name base --file /tmp/environment.yml && micromamba clean --all --yes"),
        ("ARG", "IMAGE_TAG=unknown"),
        ("ENV", "PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/opt/mlops IMAGE_TAG=${IMAGE_TAG}"),
        ("USER", "0"),
        *RUNTIME,
        ("ENTRYPOINT", '["/usr/local/bin/_entrypoint.sh", "python", "/app/train.py"]'),
    ],
    "requirements.txt": [
        ("FROM", "python:3.11.14-slim-bookworm AS builder"),
        ("RUN", "python -m venv /opt/venv"),
        ("COPY", "requirements.txt /tmp/requirements.txt"),
        ("RUN", "/opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt"),
        ("FROM", "python:3.11.14-slim-bookworm"),
        ("ARG", "IMAGE_TAG=unknown"),
        ("ENV", "PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/opt/mlops IMAGE_TAG=${IMAGE_TAG}"),
        ("COPY", "--from=builder /opt/venv /opt/venv"),
        *RUNTIME,
        ("ENTRYPOINT", '["python", "/app/train.py"]'),
    ],
}


@pytest.fixture(params=FORMS)
def dockerfile(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / f"{Path(request.param).stem}.Dockerfile"
    path.write_text(render_dockerfile(request.param))
    return path


def project(root: Path, environment: str = "requirements.txt", dockerignore: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / environment).write_text("numpy==2.4.6\n" if environment == "requirements.txt" else "dependencies:\n  - numpy=2.4.6\n")
    (root / "train.py").write_text("print('train')\n")
    (root / "features.py").write_text("SCALE = 1\n")
    if dockerignore is not None:
        (root / ".dockerignore").write_text(dockerignore)
    return root


def test_hadolint_is_clean(dockerfile: Path) -> None:
    result = subprocess.run([str(VENV_BIN / "hadolint"), str(dockerfile)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_is_clean_on_both_forms(tmp_path: Path) -> None:
    dockerfiles = [tmp_path / f"{Path(environment).stem}.Dockerfile" for environment in FORMS]
    for environment, path in zip(FORMS, dockerfiles):
        path.write_text(render_dockerfile(environment))
    assert_checkov_is_clean(dockerfiles)


@pytest.mark.parametrize("environment", FORMS)
def test_the_instructions_are_exactly_these(environment: str, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(render_dockerfile(environment))
    # Continuation lines joined, runs of spaces as one.
    assert [(keyword, " ".join(args.split())) for keyword, args in instructions(path)] == EXPECTED[environment]


@pytest.mark.parametrize("environment", FORMS)
def test_every_suppression_states_its_reason(environment: str) -> None:
    lines = render_dockerfile(environment).splitlines()
    assert [line for line in lines if "checkov:skip" in line] == [
        "# checkov:skip=CKV_DOCKER_2: a training job runs to completion; its exit code is its health"
    ]
    [ignore] = [number for number, line in enumerate(lines) if "hadolint ignore=" in line]
    assert (lines[ignore], lines[ignore + 1]) == ("# hadolint ignore=DL3022", "COPY --from=mlops-training mlops_training.py /opt/mlops/mlops_training.py")
    assert lines[ignore - 1] == "# The contract module comes from the named build context, which no stage of this file defines."


def test_the_contract_module_is_in_its_named_context_and_admitted() -> None:
    assert (CONTRACT_CONTEXT / "mlops_training.py").is_file()
    assert not DockerIgnore.read(CONTRACT_CONTEXT).excludes("mlops_training.py")


def test_the_digits_example_builds_from_its_requirements() -> None:
    assert environment_file(REPO / "projects" / "digits") == "requirements.txt"


@pytest.mark.parametrize("environment", FORMS)
def test_a_folder_names_its_environment_file(tmp_path: Path, environment: str) -> None:
    assert environment_file(project(tmp_path, environment)) == environment


NEITHER_OR_BOTH = "needs a Dockerfile, or exactly one of environment.yml and requirements.txt beside train.py; it has "


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(lambda d: (d / "Dockerfile").write_text("FROM scratch\n"), "has a Dockerfile: it is built with it, not with a generated one", id="own-dockerfile"),
        pytest.param(lambda d: (d / "environment.yml").write_text("{}\n"), NEITHER_OR_BOTH + "both", id="both"),
        pytest.param(lambda d: (d / "requirements.txt").unlink(), NEITHER_OR_BOTH + "neither", id="neither"),
        pytest.param(lambda d: (d / "train.py").unlink(), "has requirements.txt but no train.py, the training entry point", id="no-entry-point"),
        pytest.param(lambda d: (d / ".dockerignore").write_text("*.py\n"), "has a .dockerignore that excludes train.py, which the image needs", id="entry-point-ignored"),
        pytest.param(lambda d: (d / ".dockerignore").write_text("*.txt\n"), "has a .dockerignore that excludes requirements.txt, which the image needs", id="environment-ignored"),
    ],
)
def test_a_folder_that_cannot_be_built_this_way_says_why(tmp_path: Path, change: Any, reason: str) -> None:
    # The reason reads after the folder's name, as the config error puts it (mlops:projects.<p>.train.source).
    folder = project(tmp_path / "p")
    change(folder)
    with pytest.raises(ValueError) as raised:
        environment_file(folder)
    assert str(raised.value) == reason


# --- the content tag ----------------------------------------------------------------------


def changes_tag(folder: Path, name: str, text: str = "changed\n") -> bool:
    before = training_tag(folder, CONTRACT_CONTEXT)
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return training_tag(folder, CONTRACT_CONTEXT) != before


@pytest.mark.parametrize("environment", FORMS)
def test_the_tag_is_the_release_prefix_and_16_hex_and_stable(tmp_path: Path, environment: str) -> None:
    folder = project(tmp_path, environment)
    tag = training_tag(folder, CONTRACT_CONTEXT)
    assert re.fullmatch(re.escape(RELEASE_TAG_PREFIX) + "[0-9a-f]{16}", tag), tag
    assert training_tag(folder, CONTRACT_CONTEXT) == tag


@pytest.mark.parametrize("environment", FORMS)
def test_the_tag_changes_with_the_environment_file(tmp_path: Path, environment: str) -> None:
    assert changes_tag(project(tmp_path, environment), environment, "numpy==2.4.5\n")


@pytest.mark.parametrize("name", ["train.py", "features.py", "lib/new_module.py"])
def test_the_tag_changes_with_the_code(tmp_path: Path, name: str) -> None:
    assert changes_tag(project(tmp_path), name)


def test_the_tag_changes_with_the_generated_dockerfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = project(tmp_path)
    before = training_tag(folder, CONTRACT_CONTEXT)
    monkeypatch.setattr(training_dockerfile, "render_dockerfile", lambda environment: render_dockerfile(environment) + "# another line\n")
    assert training_tag(folder, CONTRACT_CONTEXT) != before


def test_the_tag_changes_with_the_contract_module(tmp_path: Path) -> None:
    folder = project(tmp_path / "p")
    contract = tmp_path / "contract"
    contract.mkdir()
    (contract / "mlops_training.py").write_text("V = 1\n")
    before = training_tag(folder, contract)
    (contract / "mlops_training.py").write_text("V = 2\n")
    assert training_tag(folder, contract) != before


def test_the_tag_differs_between_the_forms_of_the_same_code(tmp_path: Path) -> None:
    assert training_tag(project(tmp_path / "a", "requirements.txt"), CONTRACT_CONTEXT) != training_tag(
        project(tmp_path / "b", "environment.yml"), CONTRACT_CONTEXT
    )


@pytest.mark.parametrize("name", ["README.md", "notes/plan.md", "__pycache__/train.cpython-311.pyc"])
def test_the_tag_ignores_what_dockerignore_leaves_out(tmp_path: Path, name: str) -> None:
    folder = project(tmp_path, dockerignore="README.md\nnotes/\n**/__pycache__\n")
    assert not changes_tag(folder, name)


def test_the_digits_example_tag_ignores_its_readme_and_follows_its_code(tmp_path: Path) -> None:
    folder = tmp_path / "digits"
    shutil.copytree(REPO / "projects" / "digits", folder)
    assert not changes_tag(folder, "README.md")
    assert changes_tag(folder, "train.py", (folder / "train.py").read_text() + "# changed\n")
