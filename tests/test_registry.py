"""ECR repositories for the train and serve images."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from components.registry import (
    CACHE_TAG_PREFIX,
    RELEASE_TAG_PREFIX,
    ArtifactRegistryArgs,
    EcrRegistryArgs,
    RegistryCredentials,
)
from offline.engine import Recording
from tests.support import PROD_ON_AWS, RunWith
from tests.ecr_lifecycle import StoredImage, build_history, expired_by

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
    key = dev.get("aws:kms/key:Key", "registry-key")
    assert encryption["kmsKey"] == key.state["arn"]
    assert key.inputs["enableKeyRotation"] is True


def policy_of(recording: Recording, image: str) -> dict[str, Any]:
    return json.loads(recording.get(LIFECYCLE, f"registry-{image}-lifecycle").inputs["policy"])


def surviving(policy: dict[str, Any], builds: int) -> list[StoredImage]:
    """What the repository keeps after `builds` daily builds and a lifecycle run half a day later."""
    images = build_history(builds, release_prefix=RELEASE_TAG_PREFIX, cache_tag=CACHE_TAG_PREFIX)
    expired = expired_by(policy, images, today=builds - 0.5)
    return [image for image in images if image.digest not in expired]


@pytest.mark.parametrize(("stack", "keep"), [("dev", 10), ("prod_on_aws", 50)])
def test_lifecycle_keeps_exactly_keep_images_releases(request: pytest.FixtureRequest, stack: str, keep: int) -> None:
    recording: Recording = request.getfixturevalue(stack)
    for image in IMAGES:
        kept = surviving(policy_of(recording, image), builds=keep + 40)
        releases = [i for i in kept if any(t.startswith(RELEASE_TAG_PREFIX) for t in i.tags)]
        assert len(releases) == keep, image
        newest = sorted(i.pushed_day for i in releases)
        assert newest == list(range(40, keep + 40)), "the newest releases are the ones kept"


def test_lifecycle_keeps_only_the_current_build_cache(dev: Recording) -> None:
    builds = 30
    kept = surviving(policy_of(dev, "train"), builds)
    caches = [i for i in kept if CACHE_TAG_PREFIX in i.tags]
    assert [i.pushed_day for i in caches] == [builds - 1]


def test_superseded_caches_expire_after_a_day(dev: Recording) -> None:
    kept = surviving(policy_of(dev, "train"), builds=30)
    assert [i for i in kept if not i.tags] == [], "untagged manifests older than a day are expired"
    rule = next(r for r in policy_of(dev, "train")["rules"] if r["selection"]["tagStatus"] == "untagged")
    assert rule["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1}


def test_a_catch_all_rule_would_keep_one_release_fewer() -> None:
    # The model reproduces the flaw this policy fixes: a rule over every tag counts the
    # cache among the releases, because the cache rule only shields it from expiry.
    catch_all = {
        "rules": [
            {"rulePriority": 1, "selection": {"tagStatus": "tagged", "tagPrefixList": [CACHE_TAG_PREFIX],
                                              "countType": "imageCountMoreThan", "countNumber": 1}},
            {"rulePriority": 2, "selection": {"tagStatus": "tagged", "tagPatternList": ["*"],
                                              "countType": "imageCountMoreThan", "countNumber": 10}},
        ]
    }
    kept = surviving(catch_all, builds=50)
    assert len([i for i in kept if any(t.startswith(RELEASE_TAG_PREFIX) for t in i.tags)]) == 9


@pytest.mark.parametrize("stack", ["dev", "prod_on_aws"])
def test_lifecycle_rules_are_valid_for_ecr(request: pytest.FixtureRequest, stack: str) -> None:
    rules = policy_of(request.getfixturevalue(stack), "train")["rules"]
    priorities = [rule["rulePriority"] for rule in rules]
    assert priorities == sorted(set(priorities)), "unique, in ascending order (ECR reorders otherwise)"
    statuses = [rule["selection"]["tagStatus"] for rule in rules]
    assert statuses.count("untagged") <= 1, "ECR allows one rule over untagged images"
    if "any" in statuses:
        assert statuses.index("any") == len(rules) - 1, "an `any` rule must have the highest priority number"
    prefixes = [p for rule in rules for p in rule["selection"].get("tagPrefixList", [])]
    assert len(prefixes) == len(set(prefixes)), "tag prefixes must be unique across rules"
    for rule in rules:
        if rule["selection"]["tagStatus"] == "tagged":
            assert rule["selection"].get("tagPrefixList") or rule["selection"].get("tagPatternList")
        assert rule["action"] == {"type": "expire"}


def test_release_tags_never_look_like_the_cache_tag() -> None:
    assert not RELEASE_TAG_PREFIX.startswith(CACHE_TAG_PREFIX)
    assert not CACHE_TAG_PREFIX.startswith(RELEASE_TAG_PREFIX)


def test_dev_repositories_are_deleted_with_the_stack(dev: Recording, prod_on_aws: Recording) -> None:
    assert all(r.inputs["forceDelete"] is True for r in dev.of_type(REPOSITORY))
    assert prod_on_aws.of_type(REPOSITORY)
    assert all(r.inputs["forceDelete"] is False for r in prod_on_aws.of_type(REPOSITORY))


def test_prod_teardown_lets_destroy_delete_non_empty_repositories(run_with: RunWith) -> None:
    teardown = run_with("prod", **{"mlops:teardown": "true"}, **PROD_ON_AWS)
    assert [r.inputs["forceDelete"] for r in teardown.of_type(REPOSITORY)] == [True, True, True]  # pipeline, serve, train


@pytest.mark.parametrize(("stack", "days"), [("dev", 7), ("prod_on_aws", 30)])
def test_registry_key_deletion_window(request: pytest.FixtureRequest, stack: str, days: int) -> None:
    key = request.getfixturevalue(stack).get("aws:kms/key:Key", "registry-key")
    assert key.inputs["deletionWindowInDays"] == days


# --- Exact settings -----------------------------------------------------------------------


def expected_lifecycle_policy(keep: int) -> dict[str, Any]:
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Expire untagged images (superseded build caches) after a day",
                "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1},
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": "Keep only the current build cache",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": ["buildcache"],
                    "countType": "imageCountMoreThan",
                    "countNumber": 1,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 3,
                "description": f"Keep the newest {keep} releases",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": ["src-"],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep,
                },
                "action": {"type": "expire"},
            },
        ]
    }


@pytest.mark.parametrize(("stack", "keep"), [("dev", 10), ("prod_on_aws", 50)])
@pytest.mark.parametrize("image", IMAGES)
def test_lifecycle_policy_is_exactly_this(request: pytest.FixtureRequest, stack: str, keep: int, image: str) -> None:
    # A wrong priority, prefix or count either expires releases a rollback needs or keeps
    # every build cache forever (billed per GB-month).
    assert policy_of(request.getfixturevalue(stack), image) == expected_lifecycle_policy(keep)


@pytest.mark.parametrize("image", IMAGES)
def test_lifecycle_policy_applies_to_its_own_repository(dev: Recording, image: str) -> None:
    # ECR takes the repository by name; another name would prune another image's repository.
    assert dev.get(LIFECYCLE, f"registry-{image}-lifecycle").inputs["repository"] == f"mlops-dev/{image}"


@pytest.mark.parametrize(("type_", "name"), [(REPOSITORY, "registry-train"), (REPOSITORY, "registry-serve"),
                                             (LIFECYCLE, "registry-train-lifecycle"), ("aws:kms/key:Key", "registry-key")])
def test_ecr_resources_sit_under_the_registry_component(dev: Recording, type_: str, name: str) -> None:
    # A new parent is a new URN: Pulumi would replace the repository, and its images with it.
    assert dev.get(type_, name).parent == dev.get("mlops:registry:EcrRegistry", "registry").urn


def test_registry_args_and_credentials_cannot_change_once_made() -> None:
    # Callers share these (the credentials go to every image build and pull secret); a
    # mutable one lets one caller change what the others push with or prune by.
    ecr = EcrRegistryArgs(repositories=("train",), name_prefix="mlops-dev", keep_images=10, force_delete=True,
                          key_deletion_window_days=7)
    gar = ArtifactRegistryArgs(repositories=("train",), project="mlops-dev-123456", region="us-central1",
                               repository_id="mlops-dev", keep_images=10, keep_through_destroy=False, labels={})
    credentials = RegistryCredentials(address="host", username="user", password="token")  # type: ignore[arg-type]
    for frozen, field in ((ecr, "keep_images"), (gar, "keep_images"), (credentials, "password")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(frozen, field, 1)
