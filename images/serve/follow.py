"""Keep a worker on the version MODEL_URI names: load a new one beside the old, then swap it in.

Each uvicorn worker runs one ``Follower`` in the background. It ticks every CHECK_SECONDS
(or every poll interval, if that is shorter) and, on a tick:

- if the load signal changed (another worker answered a load call), re-reads MODEL_URI now;
- if no version serves yet, retries with backoff (the first model may not be promoted yet);
- if MODEL_URI is ``<model>/LATEST`` and the poll is due, reads LATEST conditionally: an
  unchanged LATEST costs S3 a 304 (or a file a stat), nothing more.

A version is fetched, verified and test-predicted in a thread, so requests keep being served
meanwhile; only then does ``swap`` put it in place, one assignment on the event loop. A
version that fails verification is rejected: logged once, counted, and not tried again
until LATEST names another version or a load call asks. One that could not be fetched is
tried again at the next poll.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from prometheus_client import Counter

from model_store import FetchError, LoadError, follows_latest, resolve

log = logging.getLogger("serve")

# How often a worker looks at the load signal: the bound on how much later than the worker
# that answered a load call the others start loading the version (then add one load).
CHECK_SECONDS = 0.5
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0

LOAD_FAILURES = Counter(
    "mlops_model_load_failures_total",
    "Attempts to load a version MODEL_URI names that failed to fetch or verify (the serving version, if any, stays)",
    ["model"],
)

Loaded = TypeVar("Loaded")


class LoadSignal:
    """A file the workers of one server share: the worker that answered a load call replaces it,
    and the others, seeing it change, re-read MODEL_URI at once instead of at their next poll."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen = self._stamp()  # what was there before this worker started is not news

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns  # replaced whole each time: a new inode

    def send(self, version: str) -> None:
        draft = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        draft.write_text(version + "\n")  # the version, for whoever looks; workers re-read MODEL_URI
        os.replace(draft, self.path)
        self._seen = self._stamp()

    def received(self) -> bool:
        stamp = self._stamp()
        if stamp == self._seen:
            return False
        self._seen = stamp
        return True


class Follower(Generic[Loaded]):
    """One worker's view of which version MODEL_URI names, and the loads that follow it."""

    def __init__(
        self,
        *,
        model_name: str,
        model_uri: str,
        poll_seconds: float,
        signal: LoadSignal,
        load: Callable[[str], Loaded],
        swap: Callable[[Loaded], None],
    ) -> None:
        self.model_name = model_name
        self.model_uri = model_uri
        self.polls = follows_latest(model_uri) and poll_seconds > 0
        self.poll_seconds = poll_seconds
        self.signal = signal
        self._load = load  # blocking: fetch and verify a version folder (LoadError if it can't serve)
        self._swap = swap  # on the event loop: put the loaded version in place
        self.serving_uri: str | None = None
        self.last_error: str | None = "loading"
        self._tag: str | None = None  # LATEST's tag when its version was last loaded or rejected
        self._rejected: tuple[str, str] | None = None  # (version uri, reason) that failed verification
        self._logged: tuple[str, str] | None = None
        self._lock = asyncio.Lock()  # one load at a time per worker: the poll's and a load call's
        LOAD_FAILURES.labels(model_name)  # a 0 from the start, so a rule's increase() sees the first failure

    async def refresh(self, *, forced: bool) -> str | None:
        """Serve the version MODEL_URI names; None once it serves, else why it can't (the old one stays).

        ``forced`` (a load call, or another worker's): read LATEST whatever its tag, and try a
        rejected version again. Otherwise an unchanged LATEST, or one naming the rejected
        version, is left alone.
        """
        async with self._lock:
            try:
                pointer = await asyncio.to_thread(resolve, self.model_uri, None if forced else self._tag)
            except LoadError as exc:  # LATEST unreadable or not there yet: not a version's failure
                return self._failed(self.model_uri, str(exc), count=False)
            except Exception as exc:  # a library's surprise must not end the following: tried at the next poll
                return self._failed(self.model_uri, f"unexpected {type(exc).__name__}: {exc}", count=False)
            if pointer is None:  # LATEST unchanged since it was last acted on
                return None if self.serving_uri is not None else self.last_error
            if pointer.version_uri == self.serving_uri:
                self._tag = pointer.tag
                return None
            if not forced and self._rejected is not None and self._rejected[0] == pointer.version_uri:
                self._tag = pointer.tag
                return self._rejected[1]
            try:
                loaded = await asyncio.to_thread(self._load, pointer.version_uri)
            except FetchError as exc:  # the tag stays unrecorded: the next poll tries again
                return self._failed(pointer.version_uri, str(exc), count=True)
            except LoadError as exc:
                self._tag = pointer.tag
                self._rejected = (pointer.version_uri, str(exc))
                return self._failed(pointer.version_uri, str(exc), count=True)
            except Exception as exc:  # as above; the tag stays unrecorded
                return self._failed(pointer.version_uri, f"unexpected {type(exc).__name__}: {exc}", count=True)
            self._swap(loaded)  # no await since the load: no request saw half of this
            self.serving_uri, self._tag = pointer.version_uri, pointer.tag
            self._rejected = self._logged = self.last_error = None
            return None

    def _failed(self, uri: str, reason: str, *, count: bool) -> str:
        if count:
            LOAD_FAILURES.labels(self.model_name).inc()
        if self.serving_uri is None:
            self.last_error = reason
        if self._logged != (uri, reason):  # each failure once, not at every poll
            self._logged = (uri, reason)
            still = f" (still serving {self.serving_uri})" if self.serving_uri is not None else ""
            log.error("model not loaded: %s%s", reason, still)
        return reason

    async def run(self) -> None:
        """Until cancelled: retry until a version serves, then follow LATEST and the load signal."""
        loop = asyncio.get_running_loop()
        tick = min(CHECK_SECONDS, self.poll_seconds) if self.polls else CHECK_SECONDS
        retry_delay = RETRY_FIRST_SECONDS
        next_retry = loop.time() + retry_delay
        next_poll = loop.time() + self.poll_seconds
        while True:
            await asyncio.sleep(tick)
            now = loop.time()
            if self.signal.received():
                await self.refresh(forced=True)
            elif self.serving_uri is None:
                if now >= next_retry:
                    await self.refresh(forced=True)
                    retry_delay = min(retry_delay * 2, RETRY_MAX_SECONDS)
                    next_retry = now + retry_delay
            elif self.polls and now >= next_poll:
                await self.refresh(forced=False)
                next_poll = now + self.poll_seconds
