"""The DAG image (components/pipeline/dag_image.py): images/pipeline/ and the stack's pipeline.json, in
one build whose content tag changes when either does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from components.pipeline.dag_image import SOURCE, dag_image_build, dag_image_tag
from components.pipeline.spec import pipeline_spec, spec_json
from offline.ci_stack import load
from offline.engine import ROOT, Recording
from tests.config.support import iris, parse

IMAGE = "docker-build:index:Image"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    copy = tmp_path / "pipeline"
    shutil.copytree(SOURCE, copy)
    return copy


def test_the_dag_image_is_built_from_its_folder_with_the_spec_as_a_named_context(dev: Recording) -> None:
    inputs = dev.get(IMAGE, "images-pipeline").inputs
    assert Path(inputs["context"]["location"]) == SOURCE
    assert inputs["dockerfile"] == {"inline": (SOURCE / "Dockerfile").read_text()}
    assert Path(inputs["context"]["named"]["spec"]["location"]) == ROOT / "build" / "pipeline" / "dev"
    assert inputs["tags"] == [f"123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/pipeline:{inputs['buildArgs']['IMAGE_TAG']}"]


def test_the_build_writes_the_stacks_spec_where_the_build_reads_it(tmp_path: Path, source: Path) -> None:
    cfg = load("dev")
    build = dag_image_build(cfg, source=source, build_dir=tmp_path / "build")
    written = build.named_contexts["spec"] / "pipeline.json"
    assert written == tmp_path / "build" / "dev" / "pipeline.json"
    assert json.loads(written.read_text()) == pipeline_spec(cfg)


def test_the_tag_changes_with_a_project_and_with_the_dag_code_not_with_an_ignored_file(tmp_path: Path, source: Path) -> None:
    cfg = parse("dev", **iris(schedule="0 3 * * *"))
    tag = dag_image_build(cfg, source=source, build_dir=tmp_path).tag
    rescheduled = parse("dev", **iris(schedule="0 4 * * *"))
    assert dag_image_build(rescheduled, source=source, build_dir=tmp_path).tag != tag
    (source / "notes.txt").write_text("not sent: .dockerignore lets through requirements.txt and dags/ only\n")
    assert dag_image_build(cfg, source=source, build_dir=tmp_path).tag == tag
    with (source / "dags" / "mlops_dags.py").open("a") as dag_code:
        dag_code.write("# a change to the DAG code\n")
    assert dag_image_build(cfg, source=source, build_dir=tmp_path).tag != tag
    assert dag_image_tag(source, spec_json(pipeline_spec(cfg))) == dag_image_build(cfg, source=source, build_dir=tmp_path).tag


def test_the_same_stack_gives_the_same_tag(tmp_path: Path, source: Path) -> None:
    cfg = load("prod")
    assert dag_image_build(cfg, source=source, build_dir=tmp_path).tag == dag_image_build(cfg, source=source, build_dir=tmp_path / "x").tag
    assert dag_image_build(cfg, source=source, build_dir=tmp_path).tag.startswith("src-")


def test_the_registry_has_a_pipeline_repository_kept_like_the_others(dev: Recording) -> None:
    repository = dev.get("aws:ecr/repository:Repository", "registry-pipeline")
    assert repository.inputs["name"] == "mlops-dev/pipeline"
    policy = json.loads(dev.get("aws:ecr/lifecyclePolicy:LifecyclePolicy", "registry-pipeline-lifecycle").inputs["policy"])
    assert policy["rules"][2]["selection"]["countNumber"] == 10  # registry.keepImages
