"""prod's images in Artifact Registry: immutable, scanned, pruned to keepImages; a cache beside them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from components.images import release_tag
from components.registry import CACHE_TAG_PREFIX, RELEASE_TAG_PREFIX
from components.config import RegistryConfig
from components.registry import build_registry
from offline.engine import MOCK_GCP_ACCESS_TOKEN, ROOT, Recording, run_program, stack_config_with
from tests.support import RunWith

REPOSITORY = "gcp:artifactregistry/repository:Repository"
SERVICE = "gcp:projects/service:Service"
IMAGE = "docker-build:index:Image"
PROJECT = "mlops-prod-123456"
HOST = "us-central1-docker.pkg.dev"
SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
IMAGES = ["train", "serve"]


def releases(recording: Recording) -> Any:
    return recording.get(REPOSITORY, "registry-images")


def cache(recording: Recording) -> Any:
    return recording.get(REPOSITORY, "registry-cache")


def test_images_live_in_one_docker_repository_named_by_stack(prod: Recording) -> None:
    inputs = releases(prod).inputs
    assert (inputs["format"], inputs["repositoryId"], inputs["location"], inputs["project"]) == (
        "DOCKER", "mlops-prod", "us-central1", PROJECT
    )


def test_release_tags_are_immutable(prod: Recording) -> None:
    assert releases(prod).inputs["dockerConfig"] == {"immutableTags": True}


def test_the_moving_cache_tag_lives_in_its_own_repository(prod: Recording) -> None:
    inputs = cache(prod).inputs
    assert inputs["repositoryId"] == "mlops-prod-cache"
    assert inputs["dockerConfig"] == {"immutableTags": False}


def test_registry_urls_point_at_artifact_registry(prod: Recording) -> None:
    # And the DAG image's (the stack runs Airflow).
    assert prod.outputs["registryUrls"] == {image: f"{HOST}/{PROJECT}/mlops-prod/{image}" for image in (*IMAGES, "pipeline")}


@pytest.mark.parametrize("image", IMAGES)
def test_images_are_pushed_under_their_content_tag(prod: Recording, image: str) -> None:
    [tag] = prod.get(IMAGE, f"images-{image}").inputs["tags"]
    assert tag == f"{HOST}/{PROJECT}/mlops-prod/{image}:{release_tag(ROOT / 'images' / image)}"


@pytest.mark.parametrize("image", IMAGES)
def test_build_cache_is_read_and_written_in_the_cache_repository(prod: Recording, image: str) -> None:
    inputs = prod.get(IMAGE, f"images-{image}").inputs
    ref = f"{HOST}/{PROJECT}/mlops-prod-cache/{image}:{CACHE_TAG_PREFIX}"
    assert inputs["cacheFrom"] == [{"registry": {"ref": ref}}]
    assert inputs["cacheTo"][0]["registry"]["ref"] == ref


def test_push_credentials_are_a_short_lived_access_token(prod: Recording) -> None:
    registries = prod.get(IMAGE, "images-train").inputs["registries"]
    assert registries[SECRET_SIGNATURE_KEY], "the token is a secret"
    assert registries["value"] == [{"address": HOST, "username": "oauth2accesstoken", "password": MOCK_GCP_ACCESS_TOKEN}]
    assert [t for t, _ in prod.invokes if t == "gcp:organizations/getClientConfig:getClientConfig"]


def test_vulnerability_scanning_is_on(prod: Recording) -> None:
    api = prod.one(SERVICE)
    assert api.inputs["service"] == "containerscanning.googleapis.com"
    assert releases(prod).inputs["vulnerabilityScanningConfig"] == {"enablementConfig": "INHERITED"}
    assert api.urn in releases(prod).dependencies, "the API is on before the repository inherits it"


def test_cleanup_policies_are_applied_not_dry_run(prod: Recording) -> None:
    assert releases(prod).inputs["cleanupPolicyDryRun"] is False
    assert cache(prod).inputs["cleanupPolicyDryRun"] is False


# A model of Artifact Registry's documented cleanup rules: a version matching any DELETE
# policy is deleted unless a KEEP policy matches it too; "keep most recent versions" keeps
# the newest keepCount versions of each package (image).
@dataclass(frozen=True)
class Version:
    package: str
    pushed_day: int
    tags: tuple[str, ...]


def _matches(condition: dict[str, Any], version: Version, today: float) -> bool:
    state = condition.get("tagState", "ANY")
    if state == "TAGGED" and not version.tags or state == "UNTAGGED" and version.tags:
        return False
    prefixes = condition.get("tagPrefixes")
    if prefixes and not any(t.startswith(tuple(prefixes)) for t in version.tags):
        return False
    older_than = condition.get("olderThan")
    return not (older_than and (today - version.pushed_day) * 86400 < int(older_than.rstrip("s")))


def surviving(policies: list[dict[str, Any]], versions: list[Version], today: float) -> list[Version]:
    kept: set[Version] = set()
    deleted: set[Version] = set()
    for policy in policies:
        if policy["action"] == "KEEP" and "mostRecentVersions" in policy:
            count = int(policy["mostRecentVersions"]["keepCount"])
            for package in {v.package for v in versions}:
                own = sorted((v for v in versions if v.package == package), key=lambda v: -v.pushed_day)
                kept |= set(own[:count])
        elif policy["action"] == "KEEP":
            kept |= {v for v in versions if _matches(policy["condition"], v, today)}
        else:
            deleted |= {v for v in versions if _matches(policy["condition"], v, today)}
    return [v for v in versions if v not in deleted or v in kept]


def test_cleanup_keeps_exactly_the_newest_keep_images_releases_per_image(prod: Recording) -> None:
    builds = 50 + 40
    versions = [Version(image, day, (f"{RELEASE_TAG_PREFIX}{day:016x}",)) for image in IMAGES for day in range(builds)]
    kept = surviving(releases(prod).inputs["cleanupPolicies"], versions, today=builds + 0.5)
    for image in IMAGES:
        assert sorted(v.pushed_day for v in kept if v.package == image) == list(range(40, builds)), image


def test_cleanup_deletes_untagged_versions_after_a_day(prod: Recording) -> None:
    policies = releases(prod).inputs["cleanupPolicies"]
    untagged = [p for p in policies if p.get("condition", {}).get("tagState") == "UNTAGGED"]
    assert untagged == [{"id": "delete-untagged", "action": "DELETE", "condition": {"tagState": "UNTAGGED", "olderThan": "86400s"}}]


def test_cache_repository_drops_superseded_caches_after_a_day(prod: Recording) -> None:
    versions = [Version("train", day, (CACHE_TAG_PREFIX,) if day == 29 else ()) for day in range(30)]
    kept = surviving(cache(prod).inputs["cleanupPolicies"], versions, today=29.5)
    assert [v.pushed_day for v in kept] == [29]


def test_prod_release_repository_survives_destroy(prod: Recording) -> None:
    assert releases(prod).protect is True


def test_prod_teardown_lifts_the_repository_protection(run_with: RunWith) -> None:
    assert releases(run_with("prod", **{"mlops:teardown": "true"})).protect is False


# --- Exact settings -----------------------------------------------------------------------

LABELS = {"managed-by": "pulumi", "stack": "prod", "environment": "prod", "project": "mlops"}


@pytest.fixture(scope="module")
def prod_keeping_20() -> Recording:
    """prod with `registry.keepImages: 20`: retention follows the config, not a constant."""
    return run_program("prod", stack_config_with("prod", {"mlops:registry": {"kind": "artifact-registry", "keepImages": 20}}))


@pytest.mark.parametrize(("stack", "keep"), [("prod", 50), ("prod_keeping_20", 20)])
def test_release_cleanup_policies_are_exactly_these(request: pytest.FixtureRequest, stack: str, keep: int) -> None:
    # Without the KEEP policy every release is deleted; with another prefix the DELETE
    # policy misses releases (kept forever, billed) or hits the cache; dry run deletes nothing.
    recording: Recording = request.getfixturevalue(stack)
    assert releases(recording).inputs["cleanupPolicies"] == [
        {"id": "delete-releases", "action": "DELETE", "condition": {"tagState": "TAGGED", "tagPrefixes": ["src-"]}},
        {"id": "delete-untagged", "action": "DELETE", "condition": {"tagState": "UNTAGGED", "olderThan": "86400s"}},
        {"id": "keep-newest-releases", "action": "KEEP", "mostRecentVersions": {"keepCount": keep}},
    ]


def test_cache_cleanup_policy_is_exactly_this(prod: Recording) -> None:
    # A tagged (current) cache must stay: deleting it makes every build a cold one.
    assert cache(prod).inputs["cleanupPolicies"] == [
        {"id": "delete-superseded-caches", "action": "DELETE", "condition": {"tagState": "UNTAGGED", "olderThan": "86400s"}}
    ]


def test_cache_repository_is_a_docker_repository_beside_the_releases(prod: Recording) -> None:
    # In another project or region the nodes and the builder would not find the cache.
    inputs = cache(prod).inputs
    assert (inputs["format"], inputs["location"], inputs["project"]) == ("DOCKER", "us-central1", PROJECT)


def test_the_cache_is_not_scanned(prod: Recording) -> None:
    # Scanning a rebuildable cache bills per pushed image for nothing.
    assert cache(prod).inputs["vulnerabilityScanningConfig"] == {"enablementConfig": "DISABLED"}


def test_destroying_the_stack_leaves_the_scanning_api_on(prod: Recording) -> None:
    # Other stacks of the project may scan too: turning the API off would stop their scans.
    assert prod.one(SERVICE).inputs == {
        "project": PROJECT,
        "service": "containerscanning.googleapis.com",
        "disableOnDestroy": False,
    }


@pytest.mark.parametrize("repository", ["registry-images", "registry-cache"])
def test_repositories_carry_the_stack_labels(prod: Recording, repository: str) -> None:
    # Unlabelled repositories drop out of the per-stack cost report and the teardown audit.
    assert prod.get(REPOSITORY, repository).inputs["labels"] == LABELS


def test_the_cache_repository_is_not_protected_in_prod(prod: Recording) -> None:
    # The cache is rebuilt from the sources; protecting it would only block a teardown.
    assert cache(prod).protect is False
    assert prod.one(SERVICE).protect is False


@pytest.mark.parametrize(("type_", "name"), [(REPOSITORY, "registry-images"), (REPOSITORY, "registry-cache"), (SERVICE, "registry-scanning-api")])
def test_registry_resources_sit_under_the_registry_component(prod: Recording, type_: str, name: str) -> None:
    # A new parent is a new URN: Pulumi would replace the repository, deleting every image in it.
    component = prod.get("mlops:registry:ArtifactRegistry", "registry")
    assert prod.get(type_, name).parent == component.urn


@pytest.mark.parametrize(("project", "region"), [("mlops-dev-123456", None), (None, "us-central1")])
def test_artifact_registry_needs_both_project_and_region(project: str | None, region: str | None) -> None:
    # Without either, the repository would go to the provider's default project or region.
    with pytest.raises(ValueError, match="Artifact Registry needs the Google Cloud project and region"):
        build_registry(
            "registry",
            RegistryConfig(kind="artifact-registry"),
            repositories=("train",),
            name_prefix="mlops-dev",
            keep_through_destroy=False,
            key_deletion_window_days=7,
            gcp_project=project,
            gcp_region=region,
        )
