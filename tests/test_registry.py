"""ECR repositories for the train and serve images."""

from __future__ import annotations

import json

import pytest

from offline.engine import Recording

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
IMAGES = ["train", "serve"]


@pytest.mark.parametrize("image", IMAGES)
def test_repository_per_image_named_by_stack(dev: Recording, image: str) -> None:
    assert dev.get(REPOSITORY, f"registry-{image}").inputs["name"] == f"mlops-dev/{image}"


@pytest.mark.parametrize("image", IMAGES)
def test_tags_are_immutable_except_the_build_cache(dev: Recording, image: str) -> None:
    inputs = dev.get(REPOSITORY, f"registry-{image}").inputs
    assert inputs["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert inputs["imageTagMutabilityExclusionFilters"] == [{"filter": "buildcache*", "filterType": "WILDCARD"}]


@pytest.mark.parametrize("image", IMAGES)
def test_images_are_scanned_on_push(dev: Recording, image: str) -> None:
    assert dev.get(REPOSITORY, f"registry-{image}").inputs["imageScanningConfiguration"] == {"scanOnPush": True}


@pytest.mark.parametrize("image", IMAGES)
def test_images_are_encrypted_with_a_rotated_kms_key(dev: Recording, image: str) -> None:
    [encryption] = dev.get(REPOSITORY, f"registry-{image}").inputs["encryptionConfigurations"]
    assert encryption["encryptionType"] == "KMS"
    assert ":registry-key/" in encryption["kmsKey"]
    assert dev.get("aws:kms/key:Key", "registry-key").inputs["enableKeyRotation"] is True


@pytest.mark.parametrize(("stack", "keep"), [("dev", 10), ("prod", 50)])
def test_lifecycle_keeps_the_newest_images(request: pytest.FixtureRequest, stack: str, keep: int) -> None:
    recording: Recording = request.getfixturevalue(stack)
    for image in IMAGES:
        policy = json.loads(recording.get(LIFECYCLE, f"registry-{image}-lifecycle").inputs["policy"])
        keep_newest = policy["rules"][-1]
        assert keep_newest["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep}
        assert keep_newest["action"] == {"type": "expire"}


def test_lifecycle_keeps_one_build_cache(dev: Recording) -> None:
    policy = json.loads(dev.get(LIFECYCLE, "registry-train-lifecycle").inputs["policy"])
    cache_rule = policy["rules"][0]
    assert cache_rule["selection"]["tagPrefixList"] == ["buildcache"]
    assert cache_rule["selection"]["countNumber"] == 1


def test_dev_repositories_are_deleted_with_the_stack(dev: Recording, prod: Recording) -> None:
    assert all(r.inputs["forceDelete"] is True for r in dev.of_type(REPOSITORY))
    assert all(r.inputs["forceDelete"] is False for r in prod.of_type(REPOSITORY))
