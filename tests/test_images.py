"""The training and serving images: built from images/, pushed with immutable tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.images import context_hash
from offline.engine import Recording

IMAGE = "docker-build:index:Image"
SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
IMAGES = ["train", "serve"]
IMAGES_DIR = Path(__file__).resolve().parent.parent / "images"


@pytest.mark.parametrize("image", IMAGES)
def test_image_builds_its_own_folder_for_amd64(dev: Recording, image: str) -> None:
    inputs = dev.get(IMAGE, f"images-{image}").inputs
    assert Path(inputs["context"]["location"]) == IMAGES_DIR / image
    assert Path(inputs["dockerfile"]["location"]) == IMAGES_DIR / image / "Dockerfile"
    assert inputs["platforms"] == ["linux/amd64"]
    assert inputs["push"] is True


@pytest.mark.parametrize("image", IMAGES)
def test_image_tag_is_the_content_hash_never_latest(dev: Recording, image: str) -> None:
    [tag] = dev.get(IMAGE, f"images-{image}").inputs["tags"]
    repository, _, version = tag.rpartition(":")
    assert repository.endswith(f"/mlops-dev/{image}")
    assert version == context_hash(IMAGES_DIR / image)[:16]
    assert version != "latest"


@pytest.mark.parametrize("image", IMAGES)
def test_image_knows_its_own_tag(dev: Recording, image: str) -> None:
    inputs = dev.get(IMAGE, f"images-{image}").inputs
    assert inputs["tags"][0].endswith(":" + inputs["buildArgs"]["IMAGE_TAG"])


def test_content_hash_changes_with_content_and_ignores_caches(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    before = context_hash(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    assert context_hash(tmp_path) == before
    (tmp_path / "app.py").write_text("print('hi')\n")
    assert context_hash(tmp_path) != before


def test_content_hash_honours_dockerignore(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".dockerignore").write_text("# local files\n*.md\n")
    before = context_hash(tmp_path)
    (tmp_path / "NOTES.md").write_text("not in the image\n")
    assert context_hash(tmp_path) == before


@pytest.mark.parametrize("image", IMAGES)
def test_push_uses_the_registry_token_as_a_secret(dev: Recording, image: str) -> None:
    registries = dev.get(IMAGE, f"images-{image}").inputs["registries"]
    # The engine wraps a secret value in Pulumi's secret signature.
    assert registries[SECRET_SIGNATURE_KEY] == SECRET_SIGNATURE
    [registry] = registries["value"]
    assert registry["address"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert registry["username"] == "AWS"
    assert registry["password"] == "mock-registry-token"
    token_calls = [token for token, _ in dev.invokes if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken"]
    assert token_calls, "credentials come from ECR's short-lived token, not from config"


@pytest.mark.parametrize("image", IMAGES)
def test_build_cache_lives_in_the_registry(dev: Recording, image: str) -> None:
    inputs = dev.get(IMAGE, f"images-{image}").inputs
    cache_ref = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/{image}:buildcache"
    assert inputs["cacheFrom"] == [{"registry": {"ref": cache_ref}}]
    [cache_to] = inputs["cacheTo"]
    assert cache_to["registry"]["ref"] == cache_ref
    assert cache_to["registry"]["imageManifest"] is True
    assert cache_to["registry"]["ociMediaTypes"] is True


def test_image_refs_are_exported_with_digests(dev: Recording) -> None:
    refs = dev.outputs["imageRefs"]
    assert set(refs) == set(IMAGES)
    for image, ref in refs.items():
        repository, _, digest = ref.partition("@")
        assert repository.endswith(f"/mlops-dev/{image}")
        assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64
