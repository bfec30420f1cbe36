"""Build the images under images/ and push them to the registry, tagged by content."""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Mapping
from pathlib import Path

import pulumi
import pulumi_docker_build as docker_build

from components.registry import CACHE_TAG_PREFIX, ContainerRegistry

PLATFORM = docker_build.Platform.LINUX_AMD64
# Never part of an image, whatever .dockerignore says; they change on every local test run.
ALWAYS_IGNORED = ("__pycache__", "*.pyc", ".pytest_cache")


def context_hash(context: Path) -> str:
    """A sha256 over the build context's file names and contents, as Docker would send it.

    The same sources always give the same tag, and any change gives a new one, which is
    what an immutable registry tag needs.
    """
    patterns = [*ALWAYS_IGNORED, *_dockerignore(context)]
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        relative = path.relative_to(context).as_posix()
        if _ignored(relative, patterns):
            continue
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _ignored(relative: str, patterns: list[str]) -> bool:
    """Whether the path, or any folder or file name in it, matches an ignore pattern."""
    candidates = [relative, *relative.split("/")]
    return any(fnmatch.fnmatch(candidate, pattern) for pattern in patterns for candidate in candidates)


def _dockerignore(context: Path) -> list[str]:
    ignore_file = context / ".dockerignore"
    if not ignore_file.exists():
        return []
    lines = (line.strip() for line in ignore_file.read_text().splitlines())
    return [line.rstrip("/") for line in lines if line and not line.startswith(("#", "!"))]


class ContainerImages(pulumi.ComponentResource):
    """One pushed image per build context, tagged with the context's content hash."""

    refs: dict[str, pulumi.Output[str]]
    """Image name -> `repository@sha256:digest`, the exact image that was pushed."""
    tags: dict[str, str]
    """Image name -> the immutable tag it was pushed under."""

    def __init__(
        self,
        name: str,
        *,
        contexts: Mapping[str, Path],
        registry: ContainerRegistry,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlops:images:ContainerImages", name, None, opts)
        credentials = registry.credentials
        self.refs = {}
        self.tags = {}
        for image, context in contexts.items():
            if not (context / "Dockerfile").is_file():
                raise ValueError(f"no Dockerfile in the {image} build context {context}")
            repository = registry.repository_urls[image]
            tag = context_hash(context)[:16]
            cache_ref = pulumi.Output.concat(repository, f":{CACHE_TAG_PREFIX}")
            built = docker_build.Image(
                f"{name}-{image}",
                context=docker_build.BuildContextArgs(location=str(context)),
                dockerfile=docker_build.DockerfileArgs(location=str(context / "Dockerfile")),
                platforms=[PLATFORM],
                build_args={"IMAGE_TAG": tag},
                push=True,
                tags=[pulumi.Output.concat(repository, f":{tag}")],
                registries=[
                    docker_build.RegistryArgs(
                        address=credentials.address,
                        username=credentials.username,
                        password=credentials.password,
                    )
                ],
                cache_from=[docker_build.CacheFromArgs(registry=docker_build.CacheFromRegistryArgs(ref=cache_ref))],
                cache_to=[
                    docker_build.CacheToArgs(
                        registry=docker_build.CacheToRegistryArgs(
                            ref=cache_ref,
                            mode=docker_build.CacheMode.MAX,
                            # ECR only accepts cache manifests in the OCI image-manifest form.
                            image_manifest=True,
                            oci_media_types=True,
                        )
                    )
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.tags[image] = tag
            self.refs[image] = pulumi.Output.concat(repository, "@", built.digest)
        self.register_outputs({"refs": self.refs})
