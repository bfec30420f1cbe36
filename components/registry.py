"""The container registry the images are pushed to and the compute pulls from.

`ContainerRegistry` is what callers see: repository URLs and ids, where each image's
build cache lives, and short-lived push credentials. `EcrRegistry` is the AWS kind,
`ArtifactRegistry` the Google Cloud one (with GKE); `build_registry` picks one, and no
caller changes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from components.config import RegistryConfig

# The build cache is pushed under tags with this prefix; it is the one mutable tag.
CACHE_TAG_PREFIX = "buildcache"
# Every release tag starts with this, which no cache tag does, so retention can count
# releases apart from the cache.
RELEASE_TAG_PREFIX = "src-"


@dataclass(frozen=True)
class RegistryCredentials:
    address: pulumi.Output[str]
    username: pulumi.Output[str]
    password: pulumi.Output[str]
    """Short-lived token, marked secret so it never reaches state or logs in clear."""


class ContainerRegistry(pulumi.ComponentResource):
    """A registry with one repository per image name."""

    repository_urls: dict[str, pulumi.Output[str]]
    """Image name -> repository URL to tag and push to."""
    repository_arns: dict[str, pulumi.Output[str]]
    """Image name -> repository id, for pull grants (an ECR ARN; an Artifact Registry repository name)."""
    cache_refs: dict[str, pulumi.Output[str]]
    """Image name -> the mutable reference its build cache is pushed to and read from."""
    credentials: RegistryCredentials


@dataclass(frozen=True)
class EcrRegistryArgs:
    repositories: Sequence[str]
    """One repository per image, e.g. ("train", "serve")."""
    name_prefix: str
    """Repository names are `<name_prefix>/<image>`, e.g. `mlops-dev/train`."""
    keep_images: int
    """Keep the newest N releases per repository."""
    force_delete: bool
    """`pulumi destroy` deletes repositories that still hold images (dev, or a prod teardown):
    ECR refuses to delete a repository that is not empty, and the build cache always is."""
    key_deletion_window_days: int
    """Days a deleted registry key can still be restored."""


class EcrRegistry(ContainerRegistry):
    """ECR repositories: immutable tags, scan on push, KMS-encrypted, pruned by age."""

    def __init__(self, name: str, args: EcrRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:registry:EcrRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts the {args.name_prefix} container images",
            enable_key_rotation=True,
            deletion_window_in_days=args.key_deletion_window_days,
            opts=child,
        )
        self.repository_urls = {}
        self.repository_arns = {}
        self.cache_refs = {}
        for image in args.repositories:
            repository = aws.ecr.Repository(
                f"{name}-{image}",
                name=f"{args.name_prefix}/{image}",
                # A pushed tag always means the same image; only the build cache tag moves.
                image_tag_mutability="IMMUTABLE_WITH_EXCLUSION",
                image_tag_mutability_exclusion_filters=[
                    aws.ecr.RepositoryImageTagMutabilityExclusionFilterArgs(
                        filter=f"{CACHE_TAG_PREFIX}*", filter_type="WILDCARD"
                    )
                ],
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=key.arn)
                ],
                force_delete=args.force_delete,
                opts=child,
            )
            aws.ecr.LifecyclePolicy(
                f"{name}-{image}-lifecycle",
                repository=repository.name,
                policy=lifecycle_policy(args.keep_images),
                opts=child,
            )
            self.repository_urls[image] = repository.repository_url
            self.repository_arns[image] = repository.arn
            # The exclusion filter above keeps this one tag mutable in the image's own repository.
            self.cache_refs[image] = pulumi.Output.concat(repository.repository_url, f":{CACHE_TAG_PREFIX}")

        first = next(iter(self.repository_urls.values()))
        token = aws.ecr.get_authorization_token_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self.credentials = RegistryCredentials(
            address=first.apply(lambda url: url.split("/", 1)[0]),
            username=token.user_name,
            password=pulumi.Output.secret(token.password),
        )
        self.register_outputs({"repositoryUrls": self.repository_urls})


def lifecycle_policy(keep_images: int) -> str:
    """ECR lifecycle policy: the newest `keep_images` releases, the current build cache.

    Every build moves the cache tag to a new manifest and leaves the old one untagged, and
    buildx pushes untagged attestation manifests too, so untagged images go after a day.
    Releases are selected by their own tag prefix: a rule matching every tag would count
    the cache image among the releases and keep one release fewer.
    """
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "Expire untagged images (superseded build caches) after a day",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": 1,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": "Keep only the current build cache",
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPrefixList": [CACHE_TAG_PREFIX],
                        "countType": "imageCountMoreThan",
                        "countNumber": 1,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 3,
                    "description": f"Keep the newest {keep_images} releases",
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPrefixList": [RELEASE_TAG_PREFIX],
                        "countType": "imageCountMoreThan",
                        "countNumber": keep_images,
                    },
                    "action": {"type": "expire"},
                },
            ]
        }
    )


@dataclass(frozen=True)
class ArtifactRegistryArgs:
    repositories: Sequence[str]
    """One image per name, e.g. ("train", "serve"), in one Docker repository."""
    project: str
    region: str
    repository_id: str
    """The Docker repository, e.g. `mlops-prod`; the cache goes to `<repository_id>-cache`."""
    keep_images: int
    """Keep the newest N releases per image."""
    keep_through_destroy: bool
    """Protect the repositories from `pulumi destroy` (deleting one deletes every image in it)."""
    labels: dict[str, str]


UNTAGGED_AFTER = "86400s"
"""Untagged versions (superseded caches, manifests a release no longer points at) go after a day."""


def cleanup_policies(keep_images: int) -> list[gcp.artifactregistry.RepositoryCleanupPolicyArgs]:
    """Artifact Registry cleanup: the newest `keep_images` versions per image, every older release deleted.

    A KEEP policy only shields versions from the DELETE policies, and wins where both match:
    every release (`src-` tag) and every untagged version older than a day is marked for
    deletion, and the newest `keep_images` versions of each image are kept back.
    """
    return [
        gcp.artifactregistry.RepositoryCleanupPolicyArgs(
            id="delete-releases",
            action="DELETE",
            condition=gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs(
                tag_state="TAGGED", tag_prefixes=[RELEASE_TAG_PREFIX]
            ),
        ),
        gcp.artifactregistry.RepositoryCleanupPolicyArgs(
            id="delete-untagged",
            action="DELETE",
            condition=gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs(
                tag_state="UNTAGGED", older_than=UNTAGGED_AFTER
            ),
        ),
        gcp.artifactregistry.RepositoryCleanupPolicyArgs(
            id="keep-newest-releases",
            action="KEEP",
            most_recent_versions=gcp.artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs(
                keep_count=keep_images
            ),
        ),
    ]


class ArtifactRegistry(ContainerRegistry):
    """An Artifact Registry Docker repository: immutable tags, scanned, pruned; and a cache repository.

    Tags are immutable for the whole repository (Artifact Registry has no exclusion filter
    like ECR's), so the build cache, whose tag moves on every build, lives in a repository
    of its own that allows it, is never scanned, and drops superseded caches after a day.
    """

    def __init__(self, name: str, args: ArtifactRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:registry:ArtifactRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Vulnerability scanning is this API; repositories that inherit scanning get it once it is on.
        scanning = gcp.projects.Service(
            f"{name}-scanning-api",
            project=args.project,
            service="containerscanning.googleapis.com",
            # Other stacks of the project may scan too; destroying this one leaves the API on.
            disable_on_destroy=False,
            opts=child,
        )
        kept = pulumi.ResourceOptions(parent=self, protect=args.keep_through_destroy)
        repository = gcp.artifactregistry.Repository(
            f"{name}-images",
            project=args.project,
            location=args.region,
            repository_id=args.repository_id,
            format="DOCKER",
            description=f"The {args.repository_id} release images",
            docker_config=gcp.artifactregistry.RepositoryDockerConfigArgs(immutable_tags=True),
            cleanup_policy_dry_run=False,
            cleanup_policies=cleanup_policies(args.keep_images),
            vulnerability_scanning_config=gcp.artifactregistry.RepositoryVulnerabilityScanningConfigArgs(
                enablement_config="INHERITED"
            ),
            labels=args.labels,
            opts=pulumi.ResourceOptions.merge(kept, pulumi.ResourceOptions(depends_on=[scanning])),
        )
        cache = gcp.artifactregistry.Repository(
            f"{name}-cache",
            project=args.project,
            location=args.region,
            repository_id=f"{args.repository_id}-cache",
            format="DOCKER",
            description=f"The {args.repository_id} build cache (one mutable tag per image)",
            docker_config=gcp.artifactregistry.RepositoryDockerConfigArgs(immutable_tags=False),
            cleanup_policy_dry_run=False,
            cleanup_policies=[
                gcp.artifactregistry.RepositoryCleanupPolicyArgs(
                    id="delete-superseded-caches",
                    action="DELETE",
                    condition=gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs(
                        tag_state="UNTAGGED", older_than=UNTAGGED_AFTER
                    ),
                )
            ],
            # A cache is rebuilt from the sources; scanning it would bill for nothing.
            vulnerability_scanning_config=gcp.artifactregistry.RepositoryVulnerabilityScanningConfigArgs(
                enablement_config="DISABLED"
            ),
            labels=args.labels,
            opts=child,
        )
        host = f"{args.region}-docker.pkg.dev"
        self.repository_urls = {
            image: pulumi.Output.concat(host, "/", args.project, "/", repository.repository_id, f"/{image}")
            for image in args.repositories
        }
        # The full resource id (projects/<p>/locations/<l>/repositories/<id>): `name` is only the last part.
        self.repository_arns = {image: repository.id for image in args.repositories}
        self.cache_refs = {
            image: pulumi.Output.concat(host, "/", args.project, "/", cache.repository_id, f"/{image}:{CACHE_TAG_PREFIX}")
            for image in args.repositories
        }
        client = gcp.organizations.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self.credentials = RegistryCredentials(
            address=pulumi.Output.from_input(host),
            # Artifact Registry takes an OAuth access token (about an hour) under this user name.
            username=pulumi.Output.from_input("oauth2accesstoken"),
            password=pulumi.Output.secret(client.access_token),
        )
        self.register_outputs({"repositoryUrls": self.repository_urls})


def build_registry(
    name: str,
    cfg: RegistryConfig,
    *,
    repositories: Sequence[str],
    name_prefix: str,
    keep_through_destroy: bool,
    key_deletion_window_days: int,
    gcp_project: str | None = None,
    gcp_region: str | None = None,
    labels: dict[str, str] | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> ContainerRegistry:
    """The registry of the configured kind (Artifact Registry needs the Google Cloud project and region)."""
    if cfg.kind == "ecr":
        return EcrRegistry(
            name,
            EcrRegistryArgs(
                repositories=repositories,
                name_prefix=name_prefix,
                keep_images=cfg.keep_images,
                force_delete=not keep_through_destroy,
                key_deletion_window_days=key_deletion_window_days,
            ),
            opts,
        )
    if cfg.kind == "artifact-registry":
        if gcp_project is None or gcp_region is None:
            raise ValueError("Artifact Registry needs the Google Cloud project and region")
        return ArtifactRegistry(
            name,
            ArtifactRegistryArgs(
                repositories=repositories,
                project=gcp_project,
                region=gcp_region,
                repository_id=name_prefix,
                keep_images=cfg.keep_images,
                keep_through_destroy=keep_through_destroy,
                labels=labels or {},
            ),
            opts,
        )
    raise ValueError(f"registry kind {cfg.kind!r} is not implemented")
