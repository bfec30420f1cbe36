"""The model server's ASGI app: Open Inference Protocol v2 REST plus Prometheus /metrics.

Each uvicorn worker process runs one copy of this app and loads its own copy of the
model, and follows MODEL_URI's LATEST by itself (follow.py). Configuration comes from the
environment (see ``Settings``), which server.py passes on to the workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import numpy as np
import sklearn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from pydantic import BaseModel, Field, ValidationError
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from follow import Follower, LoadSignal
from model_store import LoadedModel, LoadError, ModelMetadata, load_version
from protocol import (
    BINARY_HEADER,
    PREDICT_OUTPUT,
    ProtocolError,
    infer_response,
    output_datatype,
    parse_infer_request,
    parse_load_request,
)

log = logging.getLogger("serve")

SERVER_NAME = "mlops-serve"
SERVER_VERSION = "1.0.0"
# How much of an oversized body is read and dropped so that the client can read its 413.
DISCARD_BOUND_BYTES = 64 * 1024 * 1024
DISCARD_BOUND_SECONDS = 10.0
AUTH_TOKEN_ENV = "MLOPS_AUTH_TOKEN"
# With a token set, these stay open: the kubelet's probes and the Prometheus scrape carry none.
OPEN_PATHS = frozenset({"/v2/health/live", "/v2/health/ready", "/metrics"})
AUTH_REALM = 'Bearer realm="mlops-serve"'
# server.py makes this folder for one server's workers; the load signal lives in it.
STATE_DIR_ENV = "SERVE_STATE_DIR"
LOAD_SIGNAL_FILE = "load-requested"

REQUESTS = Counter("inference_requests_total", "Infer requests by HTTP status", ["model", "code"])
LATENCY = Histogram(
    "inference_request_duration_seconds",
    "Time to answer an infer request, from body read to response built",
    ["model"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
ROWS = Counter("inference_rows_total", "Rows predicted", ["model"])
BATCH_ROWS = Histogram(
    "predict_batch_rows",
    "Rows per predict call, after merging concurrent requests",
    ["model"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096),
)
# The loaded model, for the alert rules and the dashboard (components/monitoring/metrics.py
# names these on the program's side; tests/monitoring checks them against this server's
# scrape). Each worker writes its own file: "mostrecent" merges them into one series per
# label set, the last load's value, where the default ("all") would give one per pid.
MODEL_INFO = Gauge(
    "mlops_model_info", "1 for the model version this server answers with", ["model", "version"], multiprocess_mode="mostrecent"
)
MODEL_LOADED = Gauge(
    "mlops_model_loaded_timestamp_seconds", "When the served version was loaded, Unix seconds", ["model"], multiprocess_mode="mostrecent"
)
MODEL_TRAINED = Gauge(
    "mlops_model_trained_timestamp_seconds",
    "When the served version was trained (its metadata.json's created_at), Unix seconds",
    ["model"],
    multiprocess_mode="mostrecent",
)


class Settings(BaseModel):
    model_uri: str = Field(description="s3://... or file://... of a version folder or of <model>/LATEST")
    model_name: str = Field(min_length=1, description="the name clients use in /v2/models/{name}")
    max_body_bytes: int = Field(gt=0, description="larger request bodies get 413")
    max_batch_rows: int = Field(gt=0, description="merge concurrent requests up to this many rows per predict")
    auth_token: str | None = Field(default=None, min_length=1, description="if set, every endpoint but OPEN_PATHS needs it as a bearer token")
    poll_seconds: float = Field(ge=0, description="how often a worker reads MODEL_URI's LATEST (conditionally); 0: never")

    @classmethod
    def from_env(cls) -> Settings:
        model_uri = os.environ.get("MODEL_URI", "")
        token = os.environ.get(AUTH_TOKEN_ENV)
        return cls(
            model_uri=model_uri,
            model_name=os.environ.get("MODEL_NAME") or default_model_name(model_uri),
            max_body_bytes=int(os.environ.get("MAX_BODY_BYTES", 4 * 1024 * 1024)),
            max_batch_rows=int(os.environ.get("MAX_BATCH_ROWS", 4096)),
            # A Secret made from a file often ends in a newline that no client sends.
            auth_token=None if token is None else token.strip(),
            poll_seconds=float(os.environ.get("MODEL_POLL_SECONDS", 30)),
        )


def default_model_name(model_uri: str) -> str:
    """``.../models/iris/LATEST`` or ``.../models/iris/<version>`` -> ``iris``."""
    return PurePosixPath(urlparse(model_uri).path.rstrip("/")).parent.name


class MicroBatcher:
    """Merge infer requests that arrive together into one vectorized predict call.

    scikit-learn's cost is mostly per call (input checks), not per row. Requests that
    reach the event loop in the same turn are queued, and one callback scheduled with
    ``call_soon`` runs after all of them, so a lone request waits for no timer and a
    burst shares one predict. Predict runs on the event loop thread: it takes well under
    a millisecond here, and requests that arrive meanwhile join the next batch.
    """

    def __init__(self, predict: Callable[[np.ndarray], np.ndarray], max_rows: int, model_name: str) -> None:
        self._predict = predict
        self._max_rows = max_rows
        self._model_name = model_name
        self._pending: list[tuple[np.ndarray, asyncio.Future[np.ndarray]]] = []
        self._pending_rows = 0
        self._flush_scheduled = False

    async def predict(self, rows: np.ndarray) -> np.ndarray:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[np.ndarray] = loop.create_future()
        self._pending.append((rows, future))
        self._pending_rows += len(rows)
        if self._pending_rows >= self._max_rows:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._flush_scheduled = False
        pending, self._pending, self._pending_rows = self._pending, [], 0
        if not pending:
            return
        batch = pending[0][0] if len(pending) == 1 else np.concatenate([rows for rows, _ in pending])
        BATCH_ROWS.labels(self._model_name).observe(len(batch))
        try:
            predictions = self._predict(batch)
        except Exception as exc:  # every caller of this batch gets the error, none hangs
            for _, future in pending:
                if not future.done():
                    future.set_exception(exc)
            return
        offset = 0
        for rows, future in pending:
            if not future.done():
                future.set_result(predictions[offset : offset + len(rows)])
            offset += len(rows)


def sklearn_predict(model: LoadedModel) -> Callable[[np.ndarray], np.ndarray]:
    estimator = model.estimator

    def predict(rows: np.ndarray) -> np.ndarray:
        # The protocol layer has already checked shape, dtype and finiteness of every
        # value, so scikit-learn's own repeat of those checks is skipped.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            return np.asarray(estimator.predict(rows))

    return predict


def record_loaded(model_name: str, metadata: ModelMetadata, previous: ModelMetadata | None, loaded_at: float) -> None:
    """The model gauges for a version this worker has just swapped in for ``previous``.

    A first version whose metadata has no created_at gets no trained timestamp (absent,
    rather than a made-up age); one that replaces a version gets NaN, which no comparison
    in a rule is true of (a multiprocess gauge's series can't be removed).
    """
    if previous is not None and previous.version != metadata.version:
        MODEL_INFO.labels(model_name, previous.version).set(0)
    MODEL_INFO.labels(model_name, metadata.version).set(1)
    MODEL_LOADED.labels(model_name).set(loaded_at)
    if metadata.created_at is not None:
        MODEL_TRAINED.labels(model_name).set(metadata.created_at.timestamp())
    elif previous is not None:
        MODEL_TRAINED.labels(model_name).set(float("nan"))


def model_platform(model: LoadedModel) -> str:
    """KServe's platform name: the library whose estimator this is, at the version that made it."""
    xgboost_version = model.metadata.libraries.get("xgboost")
    return f"xgboost-{xgboost_version}" if xgboost_version else f"sklearn-{sklearn.__version__}"


@dataclass(frozen=True)
class Serving:
    """One loaded version and its batcher, swapped in whole: a request that took it at its start
    finishes on it, batch and all, whatever is swapped in meanwhile."""

    model: LoadedModel
    batcher: MicroBatcher
    output_datatype: str

    @property
    def version(self) -> str:
        return self.model.metadata.version


class BodyTooLarge(ProtocolError):
    def __init__(self, reason: str) -> None:
        super().__init__(413, reason)


async def discard_body(chunks: AsyncIterator[bytes]) -> None:
    """Read and drop the rest of an oversized body, within bounds, before the 413 goes out.

    A client that sends its whole body before reading the answer (most do) would
    otherwise be reset mid-upload when the connection closes with its bytes unread,
    and never see the 413. Past the bounds the connection is closed anyway.
    """
    discarded = 0
    with contextlib.suppress(TimeoutError, ClientDisconnect):
        async with asyncio.timeout(DISCARD_BOUND_SECONDS):
            async for chunk in chunks:
                discarded += len(chunk)
                if discarded > DISCARD_BOUND_BYTES:
                    return


class BearerAuth:
    """Every path but OPEN_PATHS needs `Authorization: Bearer <token>`, else a 401 with the reason.

    Pure ASGI, in front of the router: it denies by default, so an endpoint added later (or
    a path that matches none, which would be a 404) is never open by omission.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            refusal = self.refusal(Headers(scope=scope).get("authorization"))
            if refusal is not None:
                challenge, reason = refusal
                response = JSONResponse({"error": reason}, status_code=401, headers={"WWW-Authenticate": challenge})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, header: str | None) -> tuple[str, str] | None:
        """(WWW-Authenticate challenge, reason) for a request that may not pass; None if it may (RFC 6750)."""
        if header is None:
            return AUTH_REALM, "this endpoint needs an Authorization: Bearer <token> header"
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return f'{AUTH_REALM}, error="invalid_request"', "the Authorization header must be 'Bearer <token>'"
        # Constant time: how long the comparison takes must not tell how much of a guess was right.
        if not hmac.compare_digest(credentials.strip().encode("latin-1"), self._token):
            return f'{AUTH_REALM}, error="invalid_token"', "the bearer token is not valid"
        return None


class ModelServer:
    """Per-worker state: the version serving (or why none is) and the follower that replaces it."""

    def __init__(self, settings: Settings, signal: LoadSignal) -> None:
        self.settings = settings
        self.serving: Serving | None = None
        self.follower = Follower(
            model_name=settings.model_name,
            model_uri=settings.model_uri,
            poll_seconds=settings.poll_seconds,
            signal=signal,
            load=self.load,
            swap=self.swap,
        )

    def load(self, version_uri: str) -> Serving:
        """Fetch, verify and try a version, in a thread, beside the one serving."""
        model = load_version(version_uri)
        predict = sklearn_predict(model)
        try:
            # One prediction before it serves: a model that cannot predict never does, and
            # the output datatype for model metadata is known.
            datatype = output_datatype(predict(np.zeros((1, model.n_features))))
        except Exception as exc:  # e.g. pickled by an incompatible scikit-learn: refused, not a crash
            raise LoadError(f"model cannot predict: {type(exc).__name__}: {exc}") from None
        return Serving(model, MicroBatcher(predict, self.settings.max_batch_rows, self.settings.model_name), datatype)

    def swap(self, new: Serving) -> None:
        """On the event loop: one assignment, so each request sees the old version or the new one."""
        previous, self.serving = self.serving, new
        if previous is None:
            # Everything allocated so far (the libraries, the model) lives as long as the
            # process: moving it out of the collector's reach stops full collections from
            # walking it mid-request. Measured here: p99 at 64 connections from ~64 to ~12 ms.
            # Later versions are not frozen, so a replaced one can be collected whole.
            gc.freeze()
        record_loaded(self.settings.model_name, new.model.metadata, previous.model.metadata if previous else None, time.time())
        replacing = f", replacing {previous.version}" if previous is not None else ""
        log.info("model %s version %s loaded from %s%s", self.settings.model_name, new.version, new.model.uri, replacing)

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        # The first attempt happens before the worker accepts connections, so a healthy
        # start answers its first request already loaded; a failed one keeps retrying
        # in the background while /v2/health/ready says why it is not ready.
        await self.follower.refresh(forced=True)
        follow = asyncio.create_task(self.follower.run())
        yield
        follow.cancel()

    # --- endpoints --------------------------------------------------------------------

    async def server_metadata(self, _request: Request) -> Response:
        return JSONResponse({"name": SERVER_NAME, "version": SERVER_VERSION, "extensions": ["binary_tensor_data"]})

    async def live(self, _request: Request) -> Response:
        return JSONResponse({"live": True})

    async def ready(self, _request: Request) -> Response:
        if self.serving is None:
            return JSONResponse({"ready": False, "reason": self.follower.last_error}, status_code=503)
        return JSONResponse({"ready": True})

    def _known_name(self, request: Request) -> str:
        name = request.path_params["name"]
        if name != self.settings.model_name:
            raise ProtocolError(404, f"unknown model {name!r}: this server serves {self.settings.model_name!r}")
        return name

    def _serving_or_error(self, request: Request) -> Serving:
        name = self._known_name(request)
        serving = self.serving  # taken once: the request answers from this version throughout
        if serving is None:
            raise ProtocolError(503, f"model {name!r} is not ready: {self.follower.last_error}")
        version = request.path_params.get("version")
        if version is not None and version != serving.version:
            raise ProtocolError(404, f"unknown version {version!r} of {name!r}: serving {serving.version!r}")
        return serving

    async def model_metadata(self, request: Request) -> Response:
        serving = self._serving_or_error(request)
        model = serving.model
        return JSONResponse(
            {
                "name": self.settings.model_name,
                "versions": [serving.version],
                "platform": model_platform(model),
                "inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, model.n_features]}],
                "outputs": [{"name": PREDICT_OUTPUT, "datatype": serving.output_datatype, "shape": [-1]}],
                "parameters": {"sha256": model.metadata.sha256, "features": model.metadata.features},
            }
        )

    async def model_ready(self, request: Request) -> Response:
        self._serving_or_error(request)
        return JSONResponse({"name": self.settings.model_name, "ready": True})

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        chunks = request.stream()
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            # A client that sent "Expect: 100-continue" waits for this answer before sending the body.
            if request.headers.get("expect", "").lower() != "100-continue":
                await discard_body(chunks)
            raise BodyTooLarge(f"body of {declared} bytes is over the limit of {limit}")
        received: list[bytes] = []
        size = 0
        async for chunk in chunks:  # also bounds chunked bodies that declare no length
            size += len(chunk)
            if size > limit:
                await discard_body(chunks)
                raise BodyTooLarge(f"body is over the limit of {limit} bytes")
            received.append(chunk)
        return b"".join(received)

    async def infer(self, request: Request) -> Response:
        loop = asyncio.get_running_loop()
        started = loop.time()
        name = self.settings.model_name
        serving = self._serving_or_error(request)
        body = await self._read_body(request)
        parsed = parse_infer_request(body, serving.model.n_features, request.headers.get(BINARY_HEADER))
        predictions = await serving.batcher.predict(parsed.rows)
        response = infer_response(name, serving.version, parsed.request_id, predictions, parsed.binary_output)
        REQUESTS.labels(name, "200").inc()
        ROWS.labels(name).inc(len(predictions))
        LATENCY.labels(name).observe(loop.time() - started)
        if response.json_length is None:
            return Response(response.body, media_type="application/json")
        headers = {BINARY_HEADER: str(response.json_length)}
        return Response(response.body, media_type="application/octet-stream", headers=headers)

    async def repository_load(self, request: Request) -> Response:
        """The model repository extension's load: serve the version MODEL_URI names now.

        Answers once this worker serves it; the load signal tells the other workers.
        """
        name = self._known_name(request)
        parse_load_request(await self._read_body(request))
        reason = await self.follower.refresh(forced=True)
        serving = self.serving  # read with no await since the refresh: the version it swapped in
        if reason is not None:
            still = f"; still serving {serving.version}" if serving is not None else ""
            raise ProtocolError(409, f"{reason}{still}")
        assert serving is not None  # a refresh that succeeded left a version serving
        self.follower.signal.send(serving.version)
        return JSONResponse({"name": name, "version": serving.version})

    async def metrics(self, _request: Request) -> Response:
        # Workers are separate processes: their samples meet in PROMETHEUS_MULTIPROC_DIR.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def protocol_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProtocolError)
        if request.url.path.endswith("/infer"):
            REQUESTS.labels(self.settings.model_name, str(exc.status)).inc()
        # After a 413 the rest of an oversized body may still be on its way: never reuse the connection.
        headers = {"Connection": "close"} if isinstance(exc, BodyTooLarge) else None
        return JSONResponse({"error": exc.reason}, status_code=exc.status, headers=headers)


def create_app() -> Starlette:
    """uvicorn's app factory: one app (and one model) per worker process."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        raise RuntimeError("PROMETHEUS_MULTIPROC_DIR must be set before the app is imported (server.py does it)")
    if STATE_DIR_ENV not in os.environ:
        raise RuntimeError(f"{STATE_DIR_ENV} must name a folder the workers share (server.py makes one)")
    try:
        settings = Settings.from_env()
    except (ValidationError, ValueError) as exc:
        raise RuntimeError(f"bad server settings: {exc}") from None
    server = ModelServer(settings, LoadSignal(Path(os.environ[STATE_DIR_ENV]) / LOAD_SIGNAL_FILE))
    routes = [
        Route("/v2", server.server_metadata),
        Route("/v2/health/live", server.live),
        Route("/v2/health/ready", server.ready),
        Route("/v2/models/{name}", server.model_metadata),
        Route("/v2/models/{name}/ready", server.model_ready),
        Route("/v2/models/{name}/infer", server.infer, methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}", server.model_metadata),
        Route("/v2/models/{name}/versions/{version}/infer", server.infer, methods=["POST"]),
        Route("/v2/repository/models/{name}/load", server.repository_load, methods=["POST"]),
        Route("/metrics", server.metrics),
    ]
    middleware = [Middleware(BearerAuth, token=settings.auth_token)] if settings.auth_token is not None else []
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=server.lifespan,
        exception_handlers={ProtocolError: server.protocol_error},
    )
