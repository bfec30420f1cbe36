"""The DAG image's build: images/pipeline/ (the Dockerfile and the DAG factory) and the stack's
`pipeline.json`, written for the build into build/pipeline/<stack>/ (gitignored).

The spec goes in through a named build context, `spec` (the Dockerfile's `COPY --from=spec`), so
the image's content tag covers both: a change to the DAG code, or to a project's schedule, data,
gate or parameters, pushes a new image under a new tag, and the chart rolls Airflow onto it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from components.config import StackConfig
from components.config.projects import REPO_ROOT
from components.images import GeneratedBuild, context_hash
from components.pipeline.spec import pipeline_spec, spec_json, write_spec
from components.registry import RELEASE_TAG_PREFIX

IMAGE = "pipeline"
"""The image's name, and its registry repository's."""
SOURCE = REPO_ROOT / "images" / "pipeline"
BUILD_DIR = REPO_ROOT / "build" / "pipeline"
SPEC_CONTEXT = "spec"


def dag_image_tag(source: Path, spec_text: str) -> str:
    """The content tag: the source context's hash (its Dockerfile, its files) and the spec's bytes."""
    digest = hashlib.sha256(context_hash(source).encode() + b"\0")
    digest.update(f"{SPEC_CONTEXT}/pipeline.json".encode() + b"\0" + spec_text.encode() + b"\0")
    return RELEASE_TAG_PREFIX + digest.hexdigest()[:16]


def dag_image_build(cfg: StackConfig, *, source: Path = SOURCE, build_dir: Path = BUILD_DIR) -> GeneratedBuild:
    """The build of the stack's DAG image; writes its pipeline.json first (only when it changed)."""
    spec = pipeline_spec(cfg)
    folder = build_dir / cfg.stack
    write_spec(spec, folder)
    return GeneratedBuild(
        context=source,
        dockerfile=(source / "Dockerfile").read_text(),
        named_contexts={SPEC_CONTEXT: folder},
        tag=dag_image_tag(source, spec_json(spec)),
    )
