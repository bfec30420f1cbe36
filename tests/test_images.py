"""The training and serving images: built from images/, pushed with immutable tags."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest

from components.images import DockerIgnore, context_hash, release_tag
from offline.engine import Recording, run_program, stack_config
from offline.values import is_secret

IMAGE = "docker-build:index:Image"
IMAGES = ["train", "serve"]
IMAGES_DIR = Path(__file__).resolve().parent.parent / "images"
EMPTY_INPUT_SHA256 = hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("image", IMAGES)
def test_image_builds_its_own_folder_for_amd64(dev: Recording, image: str) -> None:
    inputs = dev.get(IMAGE, f"images-{image}").inputs
    assert Path(inputs["context"]["location"]) == IMAGES_DIR / image
    assert Path(inputs["dockerfile"]["location"]) == IMAGES_DIR / image / "Dockerfile"
    assert inputs["platforms"] == ["linux/amd64"]
    assert inputs["push"] is True
    assert inputs["buildOnPreview"] is False


@pytest.mark.parametrize("image", IMAGES)
def test_image_tag_is_the_content_hash_never_latest(dev: Recording, image: str) -> None:
    [tag] = dev.get(IMAGE, f"images-{image}").inputs["tags"]
    repository, _, version = tag.rpartition(":")
    assert repository.endswith(f"/mlops-dev/{image}")
    assert version == "src-" + context_hash(IMAGES_DIR / image)[:16]


def test_each_image_has_its_own_tag(dev: Recording) -> None:
    tags = {image: dev.get(IMAGE, f"images-{image}").inputs["buildArgs"]["IMAGE_TAG"] for image in IMAGES}
    assert tags["train"] != tags["serve"]
    assert EMPTY_INPUT_SHA256[:16] not in tags["train"] + tags["serve"], "a tag over no files at all"


@pytest.mark.parametrize("image", IMAGES)
def test_image_knows_its_own_tag(dev: Recording, image: str) -> None:
    inputs = dev.get(IMAGE, f"images-{image}").inputs
    assert inputs["tags"][0].endswith(":" + inputs["buildArgs"]["IMAGE_TAG"])


# --- the content hash follows .dockerignore as Docker does ---------------------------------


def make_context(root: Path, files: dict[str, str], dockerignore: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /app\n")
    if dockerignore is not None:
        (root / ".dockerignore").write_text(dockerignore)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def changes_hash(context: Path, name: str, text: str = "changed\n") -> bool:
    before = context_hash(context)
    (context / name).parent.mkdir(parents=True, exist_ok=True)
    (context / name).write_text(text)
    return context_hash(context) != before


ALLOWLIST = "# only what the Dockerfile copies\n*\n!app.py\n!lib/**\n"


def test_allowlist_sends_the_listed_files(tmp_path: Path) -> None:
    context = make_context(tmp_path, {"app.py": "v1\n", "lib/util/x.py": "v1\n"}, ALLOWLIST)
    assert changes_hash(context, "app.py")
    assert changes_hash(context, "lib/util/x.py")


def test_allowlist_ignores_everything_else(tmp_path: Path) -> None:
    context = make_context(tmp_path, {"app.py": "v1\n", "NOTES.md": "v1\n"}, ALLOWLIST)
    assert not changes_hash(context, "NOTES.md")
    assert not changes_hash(context, "sub/app.py"), "!app.py re-includes the top-level file only"
    assert not changes_hash(context, ".dockerignore", ALLOWLIST + "# reworded\n")


def test_denylist_ignores_matching_files_and_folders(tmp_path: Path) -> None:
    context = make_context(tmp_path, {"app.py": "v1\n"}, "*.md\nbuild\n**/*.log\n")
    assert not changes_hash(context, "README.md")
    assert not changes_hash(context, "build/out/artifact.bin"), "an ignored folder ignores what is under it"
    assert not changes_hash(context, "deep/down/run.log")
    assert changes_hash(context, "docs/README.md"), "*.md matches at the top level only"
    assert changes_hash(context, "app.py")


def test_without_dockerignore_every_file_counts(tmp_path: Path) -> None:
    context = make_context(tmp_path, {"app.py": "v1\n"})
    assert changes_hash(context, "__pycache__/app.cpython-311.pyc")


def test_last_matching_line_wins(tmp_path: Path) -> None:
    reincluded = make_context(tmp_path / "a", {"keep.py": "v1\n"}, "*.py\n!keep.py\n")
    assert changes_hash(reincluded, "keep.py")
    assert not changes_hash(reincluded, "other.py")
    excluded_again = make_context(tmp_path / "b", {"keep.py": "v1\n"}, "!keep.py\n*.py\n")
    assert not changes_hash(excluded_again, "keep.py")


def test_dockerfile_counts_even_when_ignored(tmp_path: Path) -> None:
    context = make_context(tmp_path, {"app.py": "v1\n"}, "*\n!app.py\n")
    assert changes_hash(context, "Dockerfile", "FROM scratch\nCOPY app.py /app/\n")


def test_a_served_file_changes_only_the_serve_tag(tmp_path: Path) -> None:
    shutil.copytree(IMAGES_DIR, tmp_path / "images", ignore=shutil.ignore_patterns("__pycache__"))
    before = {image: release_tag(tmp_path / "images" / image) for image in IMAGES}
    with (tmp_path / "images" / "serve" / "app.py").open("a") as app:
        app.write("# a change\n")
    after = {image: release_tag(tmp_path / "images" / image) for image in IMAGES}
    assert after["serve"] != before["serve"]
    assert after["train"] == before["train"]


def test_a_file_outside_the_allowlist_changes_no_tag(tmp_path: Path) -> None:
    shutil.copytree(IMAGES_DIR, tmp_path / "images", ignore=shutil.ignore_patterns("__pycache__"))
    before = {image: release_tag(tmp_path / "images" / image) for image in IMAGES}
    for image in IMAGES:
        (tmp_path / "images" / image / "NOTES.md").write_text("not sent to the build\n")
        (tmp_path / "images" / image / "__pycache__").mkdir(exist_ok=True)
        (tmp_path / "images" / image / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert {image: release_tag(tmp_path / "images" / image) for image in IMAGES} == before


@pytest.mark.parametrize("image", IMAGES)
def test_push_uses_the_registry_token_as_a_secret(dev: Recording, image: str) -> None:
    registries = dev.get(IMAGE, f"images-{image}").inputs["registries"]
    # The engine wraps a secret value in Pulumi's secret signature.
    assert is_secret(registries)
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
    assert set(refs) == {*IMAGES, "pipeline"}  # and the DAG image (tests/pipeline/test_airflow_image.py)
    for image, ref in refs.items():
        repository, _, digest = ref.partition("@")
        assert repository.endswith(f"/mlops-dev/{image}")
        assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64


# --- a preview builds nothing, pushes nothing, and shows no spurious update ------------------


@pytest.fixture(scope="module", params=["dev", "prod"])
def previewed(request: pytest.FixtureRequest) -> tuple[Recording, Recording]:
    """A stack run as `pulumi preview` runs it, beside the same stack run as `pulumi up`."""
    stack: str = request.param
    return run_program(stack, stack_config(stack), preview=True), request.getfixturevalue(stack)


def provider_builds_on_preview(inputs: dict[str, object]) -> bool:
    """What pulumi-docker-build's Image.Create does on a dry run (provider/internal/image.go):
    unless buildOnPreview is true (its default, also the SDK's), it returns before `cli.Build`,
    so nothing is built, pushed, or exported to `cacheTo`."""
    return inputs.get("buildOnPreview", True) is not False


def test_the_engine_runs_a_preview_as_a_dry_run(tmp_path: Path) -> None:
    program = tmp_path / "__main__.py"
    program.write_text("import pulumi\npulumi.export('dryRun', pulumi.runtime.is_dry_run())\n")
    assert run_program("dev", {}, program=program, preview=True).outputs == {"dryRun": True}
    assert run_program("dev", {}, program=program).outputs == {"dryRun": False}


@pytest.mark.parametrize("image", IMAGES)
def test_a_preview_exports_no_build_cache(previewed: tuple[Recording, Recording], image: str) -> None:
    # Built on preview, the image stays local but its cache manifests are still pushed: the
    # read-only preview role fails, or a PR's unreviewed code overwrites the release cache.
    preview, _ = previewed
    inputs = preview.get(IMAGE, f"images-{image}").inputs
    assert inputs["cacheTo"] != [], "the cache is exported, on `up`"
    assert provider_builds_on_preview(inputs) is False


@pytest.mark.parametrize("image", IMAGES)
def test_a_preview_asks_for_exactly_what_up_asks_for(previewed: tuple[Recording, Recording], image: str) -> None:
    # The provider diffs inputs: any difference between a preview's inputs and the last
    # `up`'s (cacheTo gated on is_dry_run, say) shows every preview as an image update.
    preview, up = previewed
    assert preview.get(IMAGE, f"images-{image}").inputs == up.get(IMAGE, f"images-{image}").inputs


# --- the build, exactly ----------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_build_cache_is_exported_in_full_to_the_registry(request: pytest.FixtureRequest, stack: str) -> None:
    # mode max caches every stage (the dependency layers); min only the final one, and each
    # build then reinstalls everything. ECR takes the cache only as an OCI image manifest.
    run: Recording = request.getfixturevalue(stack)
    for image in IMAGES:
        [cache_to] = run.get(IMAGE, f"images-{image}").inputs["cacheTo"]
        [cache_from] = run.get(IMAGE, f"images-{image}").inputs["cacheFrom"]
        ref = cache_from["registry"]["ref"]
        assert ref.endswith(f"/{image}:buildcache")
        chosen = {key: cache_to["registry"][key] for key in ("ref", "mode", "imageManifest", "ociMediaTypes")}
        assert chosen == {"ref": ref, "mode": "max", "imageManifest": True, "ociMediaTypes": True}


@pytest.mark.parametrize("image", IMAGES)
def test_image_is_built_only_on_up_for_amd64_and_pushed(prod: Recording, image: str) -> None:
    # GKE's and Batch's nodes are amd64: an arm64 image from a laptop would not start there.
    inputs = prod.get(IMAGE, f"images-{image}").inputs
    assert (inputs["platforms"], inputs["push"], inputs["buildOnPreview"]) == (["linux/amd64"], True, False)
    assert inputs["buildArgs"] == {"IMAGE_TAG": release_tag(IMAGES_DIR / image)}


def test_images_are_children_of_the_images_component(dev: Recording) -> None:
    # A parent change is a URN change: every `up` would rebuild and push both images anew.
    component = dev.get("mlops:images:ContainerImages", "images")
    assert {r.name for r in dev.children_of(component)} == {"images-train", "images-serve", "images-pipeline"}


def test_release_tag_is_the_prefix_and_sixteen_hex_of_the_content_hash() -> None:
    tag = release_tag(IMAGES_DIR / "serve")
    assert tag == "src-" + context_hash(IMAGES_DIR / "serve")[:16]


def test_a_context_without_a_dockerfile_is_refused(tmp_path: Path) -> None:
    # Caught before the build, with the image's name, not as a BuildKit error mid-`up`.
    import pulumi
    from types import SimpleNamespace

    from components.images import ContainerImages
    from offline.engine import RecordingMocks, RecordingMonitor

    pulumi.runtime.settings.ROOT.set(None)
    mocks = RecordingMocks(region="us-east-1")
    pulumi.runtime.set_mocks(mocks, project="mlops", stack="test", preview=False, monitor=RecordingMonitor(mocks))
    registry: Any = SimpleNamespace(credentials=None, repository_urls={"serve": "r"}, cache_refs={"serve": "r:c"})
    with pytest.raises(ValueError, match="no Dockerfile in the serve build context"):
        ContainerImages("images", contexts={"serve": tmp_path}, registry=registry)


def test_an_inline_dockerfile_is_hashed_as_the_folders_own_would_be(tmp_path: Path) -> None:
    # A generated Dockerfile (components/training_dockerfile.py) and a checked-in one of the same bytes tag alike.
    own = make_context(tmp_path / "own", {"app.py": "print(1)\n"})
    inline = tmp_path / "inline"
    shutil.copytree(own, inline)
    (inline / "Dockerfile").unlink()
    assert context_hash(inline, dockerfile=b"FROM scratch\nCOPY . /app\n") == context_hash(own)
    assert context_hash(inline, dockerfile=b"FROM scratch\n") != context_hash(own)


def test_an_inline_dockerfile_stands_for_the_folders_own(tmp_path: Path) -> None:
    # Given bytes, a Dockerfile in the folder is neither read nor hashed as a sent file.
    context = make_context(tmp_path / "c", {"app.py": "print(1)\n"})
    before = context_hash(context, dockerfile=b"FROM scratch\n")
    (context / "Dockerfile").write_text("FROM another\n")
    assert context_hash(context, dockerfile=b"FROM scratch\n") == before


# --- .dockerignore patterns, one by one (moby/patternmatcher) ------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        ("*.py", "app.py", True),
        ("*.py", "lib/app.py", False),  # * stops at /
        ("?.py", "a.py", True),
        ("?.py", "ab.py", False),
        ("a?b", "a/b", False),  # ? does not match /
        ("[ab].py", "b.py", True),
        ("[ab].py", "c.py", False),
        ("[^a].py", "a.py", False),
        ("[^a].py", "c.py", True),
        ("[ab", "[ab", True),  # an unclosed [ is a literal
        ("\\*.py", "*.py", True),  # an escaped * is a literal
        ("\\*.py", "a.py", False),
        ("/build", "build/out.bin", True),  # a leading / is the context root
        ("./build", "build", True),
        ("build/", "build/x", True),
        ("**/*.log", "a/b/c.log", True),
        ("**/*.log", "c.log", True),
        ("docs/**", "docs/a/b.md", True),
        ("docs/**", "docs", False),  # what is under it, not the folder itself
        ("a/**/z", "a/z", True),
        ("a/**/z", "a/b/c/z", True),
        ("a/**/z", "a/bz", False),
        # ** with no / after it: any folders, then the rest of the pattern as written
        ("**.pyc", "lib/.pyc", True),
        ("**.pyc", "lib/xpyc", False),
        ("a.py", "a_py", False),  # . is a literal
        ("lib", "lib/deep/x.py", True),  # a folder excludes what is under it
        ("lib", "library.py", False),
        ("/", "app.py", False),
    ],
)
def test_a_single_pattern_matches_as_buildkit_does(pattern: str, path: str, excluded: bool) -> None:
    assert DockerIgnore([pattern]).excludes(path) is excluded


def test_comments_and_blank_lines_are_no_patterns() -> None:
    ignore = DockerIgnore(["# app.py", "", "   ", "#*"])
    assert ignore.patterns == []
    assert ignore.excludes("app.py") is False


def test_a_reinclusion_may_be_spaced_and_rescues_a_file_in_an_excluded_folder() -> None:
    ignore = DockerIgnore(["lib", "! lib/keep.py"])
    assert ignore.excludes("lib/keep.py") is False
    assert ignore.excludes("lib/other.py") is True


def test_a_reinclusion_alone_excludes_nothing() -> None:
    assert DockerIgnore(["!app.py"]).excludes("other.py") is False


def test_dockerignore_is_read_from_the_context(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("*.md\n")
    assert DockerIgnore.read(tmp_path).excludes("README.md") is True
    assert DockerIgnore.read(tmp_path / "nowhere").patterns == []


def test_every_sent_file_counts_under_its_path(tmp_path: Path) -> None:
    # A rename changes what COPY puts where: the tag must change with it.
    context = make_context(tmp_path, {"a.py": "same\n"})
    before = context_hash(context)
    (context / "a.py").rename(context / "b.py")
    assert context_hash(context) != before
    nested = make_context(tmp_path / "n", {"pkg/mod.py": "v1\n"})
    assert changes_hash(nested, "pkg/mod.py")
