"""images/serve/model_store.py's conditional read of LATEST, in process: what a poll costs and sees."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import REPO
from tests.loopback import Moto

SERVE = REPO / "images" / "serve"


@pytest.fixture(scope="module")
def model_store() -> Iterator[ModuleType]:
    """The server's module as its image runs it: its folder on the path."""
    sys.path.insert(0, str(SERVE))
    try:
        yield importlib.import_module("model_store")
    finally:
        sys.path.remove(str(SERVE))


@pytest.fixture
def s3_env(moto: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in moto.env().items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)


def test_s3_latest_unchanged_is_a_304_and_changed_names_the_new_version(model_store: ModuleType, moto: Moto, bucket: str, s3_env: None) -> None:
    s3 = moto.client("s3")
    s3.put_object(Bucket=bucket, Key="models/iris/LATEST", Body=b"v1\n")
    uri = f"s3://{bucket}/models/iris/LATEST"
    first = model_store.resolve(uri)
    etag = s3.head_object(Bucket=bucket, Key="models/iris/LATEST")["ETag"]
    assert first == model_store.Pointer(version_uri=f"s3://{bucket}/models/iris/v1", tag=etag)
    assert model_store.resolve(uri, etag) is None  # S3 answered 304: no body

    s3.put_object(Bucket=bucket, Key="models/iris/LATEST", Body=b"v2\n")
    new_etag = s3.head_object(Bucket=bucket, Key="models/iris/LATEST")["ETag"]
    assert model_store.resolve(uri, etag) == model_store.Pointer(version_uri=f"s3://{bucket}/models/iris/v2", tag=new_etag)


def test_file_latest_unchanged_is_not_read_and_a_replaced_file_is(model_store: ModuleType, tmp_path: Path) -> None:
    latest = tmp_path / "iris" / "LATEST"
    latest.parent.mkdir()
    latest.write_text("v1\n")
    uri = latest.as_uri()
    first = model_store.resolve(uri)
    assert first.version_uri == f"{tmp_path.as_uri()}/iris/v1"
    assert model_store.resolve(uri, first.tag) is None

    draft = latest.with_name("draft")
    draft.write_text("v2\n")
    os.replace(draft, latest)  # as the trainer promotes: a whole new file
    second = model_store.resolve(uri, first.tag)
    assert second.version_uri == f"{tmp_path.as_uri()}/iris/v2"
    assert second.tag != first.tag
    assert model_store.resolve(uri, second.tag) is None


def test_a_pinned_version_is_not_read(model_store: ModuleType, tmp_path: Path) -> None:
    pinned = f"{tmp_path.as_uri()}/no-such-folder/v1"
    assert model_store.resolve(pinned) == model_store.Pointer(version_uri=pinned, tag=None)


def test_a_missing_latest_is_a_fetch_error_and_a_bad_one_a_load_error(model_store: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(model_store.FetchError, match="^cannot read .*/LATEST: No such file or directory$"):
        model_store.resolve(f"{tmp_path.as_uri()}/LATEST")
    (tmp_path / "LATEST").write_text("a/b\n")
    with pytest.raises(model_store.LoadError, match=r"LATEST does not name a version: 'a/b'$") as raised:
        model_store.resolve(f"{tmp_path.as_uri()}/LATEST")
    assert not isinstance(raised.value, model_store.FetchError)  # a bad pointer is not retried as if storage failed
