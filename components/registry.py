"""The container registry the images are pushed to and the compute pulls from.

`ContainerRegistry` is what callers see: repository URLs and ids, and short-lived push
credentials. `EcrRegistry` is the AWS kind; another kind (Artifact Registry, with GKE)
subclasses it and `build_registry` picks it, without any caller changing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

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
    """Image name -> repository id, for pull grants."""
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


def build_registry(
    name: str,
    cfg: RegistryConfig,
    *,
    repositories: Sequence[str],
    name_prefix: str,
    keep_through_destroy: bool,
    key_deletion_window_days: int,
    opts: pulumi.ResourceOptions | None = None,
) -> ContainerRegistry:
    """The registry of the configured kind."""
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
    raise ValueError(f"registry kind {cfg.kind!r} is not implemented")
