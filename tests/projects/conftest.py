"""The image tests' fixtures (S3 on loopback, the real server), for the example projects' tests."""

from tests.images.conftest import bucket, moto, start_server

__all__ = ["bucket", "moto", "start_server"]
