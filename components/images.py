"""Build the images under images/ and push them to the registry, tagged by content."""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker_build as docker_build

from components.registry import RELEASE_TAG_PREFIX, ContainerRegistry

PLATFORM = docker_build.Platform.LINUX_AMD64


def context_hash(context: Path, dockerfile: bytes | None = None) -> str:
    """A sha256 over the Dockerfile and every file the build would send, names and contents.

    The Dockerfile is the context's own, or `dockerfile` when the program writes it (an
    inline Dockerfile). The files are chosen the way Docker chooses them from
    `.dockerignore`: patterns apply in order, `!` re-includes, and the last matching
    pattern wins. The Dockerfile counts even if ignored, since it defines the build. Same
    sources, same hash; any change to a sent file, a new hash; a change to an ignored file, none.
    """
    matcher = DockerIgnore.read(context)
    if dockerfile is None:
        dockerfile = (context / "Dockerfile").read_bytes()
    digest = hashlib.sha256(b"Dockerfile\0" + dockerfile + b"\0")
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        relative = path.relative_to(context).as_posix()
        if relative == "Dockerfile" or matcher.excludes(relative):
            continue
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def release_tag(context: Path) -> str:
    """The immutable tag an image is pushed under: the prefix and 16 hex of its content hash."""
    return RELEASE_TAG_PREFIX + context_hash(context)[:16]


@dataclass(frozen=True)
class GeneratedBuild:
    """A build from a Dockerfile the program writes (inline), not one in the context folder."""

    context: Path
    dockerfile: str
    named_contexts: Mapping[str, Path]
    """Further build contexts by name, as the Dockerfile's `COPY --from=<name>` uses them."""
    tag: str
    """Its content tag, over everything the build uses (the named contexts too)."""


class DockerIgnore:
    """`.dockerignore` matching as BuildKit does it (moby/patternmatcher).

    Each line is a pattern; `#` lines are comments; a leading `!` re-includes. Patterns are
    cleaned paths relative to the context: `*` and `?` stop at `/`, `**` spans folders. A
    path is excluded when the last pattern that matches it, or one of its parent folders,
    is an exclusion.
    """

    def __init__(self, lines: list[str]) -> None:
        self.patterns: list[tuple[re.Pattern[str], bool]] = []
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            reinclude = line.startswith("!")
            pattern = posixpath.normpath(line.removeprefix("!").strip())
            if len(pattern) > 1:
                pattern = pattern.lstrip("/")
            self.patterns.append((re.compile(_pattern_regex(pattern)), reinclude))

    @classmethod
    def read(cls, context: Path) -> DockerIgnore:
        ignore_file = context / ".dockerignore"
        return cls(ignore_file.read_text().splitlines() if ignore_file.exists() else [])

    def excludes(self, relative: str) -> bool:
        parents = relative.split("/")[:-1]
        candidates = [relative, *("/".join(parents[: i + 1]) for i in range(len(parents)))]
        excluded = False
        for regex, reinclude in self.patterns:
            # Only a pattern that could flip the verdict needs checking, as in BuildKit.
            if reinclude != excluded:
                continue
            if any(regex.match(candidate) for candidate in candidates):
                excluded = not reinclude
        return excluded


def _pattern_regex(pattern: str) -> str:
    """A `.dockerignore` pattern as an anchored regular expression."""
    regex, index = "^", 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            index += 2
            if pattern.startswith("/", index):
                index += 1
            regex += ".*" if index >= len(pattern) else "(.*/)?"
            continue
        if char == "*":
            regex += "[^/]*"
        elif char == "?":
            regex += "[^/]"
        elif char == "[" and (close := pattern.find("]", index + 1)) != -1:
            regex += pattern[index : close + 1]  # a class, with ^ for negation, as in Go
            index = close
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            regex += re.escape(pattern[index])
        else:
            regex += re.escape(char)
        index += 1
    return regex + "$"


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
        contexts: Mapping[str, Path | GeneratedBuild],
        registry: ContainerRegistry,
        repositories: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`contexts` maps each image to its folder (built from the folder's Dockerfile) or to a
        generated build. `repositories` names the registry repository of an image not named after one (a project's
        training image goes to `train`); the others go to the repository of their own name."""
        super().__init__("mlops:images:ContainerImages", name, None, opts)
        credentials = registry.credentials
        self.refs = {}
        self.tags = {}
        for image, source in contexts.items():
            context, dockerfile, tag = _build_inputs(image, source)
            repository_name = (repositories or {}).get(image, image)
            repository = registry.repository_urls[repository_name]
            cache_ref = registry.cache_refs[repository_name]
            if repository_name != image:  # its own build cache, beside the repository's
                cache_ref = pulumi.Output.concat(cache_ref, f"-{image}")
            built = docker_build.Image(
                f"{name}-{image}",
                context=context,
                dockerfile=dockerfile,
                platforms=[PLATFORM],
                build_args={"IMAGE_TAG": tag},
                # A preview neither builds nor pushes: a build on preview still exports the
                # cache, which a read-only preview role can't and a PR's code must not.
                # Inputs stay the same as `up`'s, so a preview shows no spurious update.
                build_on_preview=False,
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
                            # ECR only accepts cache manifests in the OCI image-manifest form; Artifact Registry takes it too.
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


def _build_inputs(
    image: str, source: Path | GeneratedBuild
) -> tuple[docker_build.BuildContextArgs, docker_build.DockerfileArgs, str]:
    """The build context, the Dockerfile and the tag of one image."""
    if isinstance(source, GeneratedBuild):
        named = {name: docker_build.ContextArgs(location=str(path)) for name, path in source.named_contexts.items()}
        context = docker_build.BuildContextArgs(location=str(source.context), named=named)
        return context, docker_build.DockerfileArgs(inline=source.dockerfile), source.tag
    if not (source / "Dockerfile").is_file():
        raise ValueError(f"no Dockerfile in the {image} build context {source}")
    dockerfile = docker_build.DockerfileArgs(location=str(source / "Dockerfile"))
    return docker_build.BuildContextArgs(location=str(source)), dockerfile, release_tag(source)
