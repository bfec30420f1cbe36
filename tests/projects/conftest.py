"""The image tests' real-server fixture, for the example projects' tests (S3 on loopback is tests/conftest.py's)."""

from tests.images.conftest import start_server

__all__ = ["start_server"]
