"""A reproduce run's inputs, from the version it reproduces, and the refusals when they are gone.

A version stays reproducible while three things exist: its metadata.json, its data version
(S3 deletes a superseded version `storage.noncurrentVersionDays` after it was replaced; builtin
data ships with the image) and its image (the registry keeps the newest `registry.keepImages`).
validate_data checks all three before anything trains, and refuses with the one that is gone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from mlops_pipeline.command import DEFAULT_SEED
from mlops_pipeline.errors import Refused
from mlops_pipeline.versions import models_prefix, read_metadata

ECR_HOST = re.compile(r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
IMAGE_REF = re.compile(r"^(?P<host>[^/]+)/(?P<repository>[^@]+)@(?P<digest>sha256:[0-9a-f]{64})$")


@dataclass(frozen=True)
class Original:
    """What the reproduced version ran with."""

    version: str
    data_uri: str  # without any ?versionId=
    data_version_id: str | None
    params: dict[str, Any]
    seed: int
    image: str


def original(s3: Any, bucket: str, project: str, version: str) -> Original:
    metadata = read_metadata(s3, bucket, project, version)
    if metadata is None:
        raise Refused(f"version {version} of {project} does not exist: no s3://{bucket}/{models_prefix(project)}{version}/metadata.json")
    image = metadata.get("image")
    if not image:
        raise Refused(
            f"version {version} of {project} records no image (it was trained outside the platform, "
            "where MLOPS_TRAINING_IMAGE is unset), so it cannot be run again on the image that made it"
        )
    data = metadata["data"]
    training = metadata.get("training", {})
    return Original(
        version=version,
        data_uri=str(data["uri"]).split("?", 1)[0],
        data_version_id=data.get("version_id"),
        params=dict(training.get("params", {})),
        seed=int(training.get("seed", DEFAULT_SEED)),
        image=str(image),
    )


def check_data_version(s3: Any, found: Original) -> None:
    """The data version it trained on still exists (builtin data always does)."""
    from botocore.exceptions import ClientError

    if not found.data_uri.startswith("s3://"):
        return
    if not found.data_version_id:
        raise Refused(
            f"version {found.version} trained on {found.data_uri} without recording a data version "
            "(an unversioned bucket?): the bytes it read cannot be named, so it cannot be reproduced"
        )
    parsed = urlparse(found.data_uri)
    try:
        s3.head_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"), VersionId=found.data_version_id)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in {"NoSuchVersion", "NoSuchKey", "404", "400", "InvalidArgument"}:
            raise Refused(
                f"version {found.version} can no longer be reproduced: its data, {found.data_uri} version "
                f"{found.data_version_id}, has expired (superseded versions are kept storage.noncurrentVersionDays days)"
            ) from None
        raise


def ecr_image(image: str) -> tuple[str, str, str, str] | None:
    """(account, region, repository, digest) of an ECR image by digest; None for another registry."""
    ref = IMAGE_REF.match(image)
    host = ECR_HOST.match(ref.group("host")) if ref else None
    if not ref or not host:
        return None
    return host.group("account"), host.group("region"), ref.group("repository"), ref.group("digest")


def check_image(ecr_client: Any, found: Original) -> bool:
    """The image it ran is still in ECR; False where the registry is another (the Job's pull then tells)."""
    parts = ecr_image(found.image)
    if parts is None:
        return False
    account, region, repository, digest = parts
    from botocore.exceptions import ClientError

    try:
        ecr_client(region).describe_images(registryId=account, repositoryName=repository, imageIds=[{"imageDigest": digest}])
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in {"ImageNotFoundException", "RepositoryNotFoundException"}:
            raise Refused(
                f"version {found.version} can no longer be reproduced: its image {found.image} is gone "
                "(the registry keeps the newest registry.keepImages images)"
            ) from None
        raise
    return True
