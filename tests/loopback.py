"""S3 (and other AWS APIs) on loopback: moto's ThreadedMotoServer, and an environment that reaches only it."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
from moto.server import ThreadedMotoServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(**extra: str) -> dict[str, str]:
    """The test process's environment without anything that could reach real AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class Moto:
    endpoint: str

    def client(self, service: str, **credentials: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=credentials.get("key", "testing"),
            aws_secret_access_key=credentials.get("secret", "testing"),
        )

    def env(self, **extra: str) -> dict[str, str]:
        return base_env(AWS_ENDPOINT_URL=self.endpoint, **extra)

    def versioned_bucket(self, prefix: str, test_name: str) -> str:
        """A new bucket named for the test, versioned as the platform's data bucket is."""
        name = prefix + re.sub(r"[^a-z0-9]+", "-", test_name.lower())[:55].strip("-")
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def enforce_iam(self, enabled: bool) -> None:
        """moto's switch for checking every request against IAM (off by default)."""
        count = "0" if enabled else "inf"
        httpx.post(f"{self.endpoint}/moto-api/reset-auth", content=count).raise_for_status()


@contextmanager
def moto_on_loopback() -> Iterator[Moto]:
    """A moto server on a free loopback port, for as long as the block runs."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield Moto(endpoint=f"http://127.0.0.1:{port}")
    finally:
        server.stop()
