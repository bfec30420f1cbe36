"""roll_out: each serving pod switches to the promoted version, through the Open Inference Protocol's
model repository extension, with no restart.

For each ready endpoint of the project's Service (its EndpointSlices, read from the Kubernetes
API): POST /v2/repository/models/<name>/load, which makes the pod load LATEST's version beside
the old one, verify it and swap; then GET /v2/models/<name> until each answers the new version
(a pod's other workers follow the one that took the call within a second or two).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from mlops_pipeline.errors import Refused

CONFIRM_SECONDS = 30.0
HTTP_TIMEOUT = 30.0  # a load fetches, verifies and test-predicts the model before it answers
SERVICE_LABEL = "kubernetes.io/service-name"
TOKEN_KEY = "token"  # the key of a public server's token Secret (components/serving.py TOKEN_KEY)


def ready_endpoints(slices: list[dict[str, Any]]) -> list[str]:
    """http://<pod ip>:<port> of every ready endpoint in the Service's EndpointSlices."""
    urls = []
    for endpoint_slice in slices:
        ports = [p["port"] for p in endpoint_slice.get("ports") or [] if p.get("port")]
        for endpoint in endpoint_slice.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") and ports:
                host = endpoint["addresses"][0]
                urls.append(f"http://[{host}]:{ports[0]}" if ":" in host else f"http://{host}:{ports[0]}")
    return sorted(set(urls))


def call(method: str, url: str, body: bytes | None = None, *, token: str | None = None) -> tuple[int, dict[str, Any]]:
    """One request; `token` is the bearer token a public model server requires."""
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, {"error": text.decode(errors="replace")}


def load(base: str, model: str, version: str, *, token: str | None = None) -> str:
    status, answer = call("POST", f"{base}/v2/repository/models/{model}/load", b"{}", token=token)
    if status == 409:
        raise RuntimeError(f"{base} refused to load {version}: {answer.get('error')}")  # kept the old one: retried
    if status != 200:
        raise RuntimeError(f"{base} answered the load with {status}: {answer}")
    if answer.get("version") != version:
        raise Refused(
            f"{base} loaded {answer.get('version')}, not {version}: its MODEL_URI does not follow LATEST "
            "(serve.modelVersion pins a version)"
        )
    return f"{base} loaded {version}"


def confirm(
    base: str, model: str, version: str, *, token: str | None = None,
    seconds: float = CONFIRM_SECONDS, sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Every answer names the new version: a few in a row, since each may come from another worker."""
    deadline, in_a_row, last = time.monotonic() + seconds, 0, None
    while in_a_row < 4:
        status, answer = call("GET", f"{base}/v2/models/{model}", token=token)
        last = answer.get("versions") if status == 200 else f"{status} {answer}"
        in_a_row = in_a_row + 1 if last == [version] else 0
        if in_a_row < 4:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{base} still answers {last} after {seconds:.0f}s, not [{version!r}]")
            sleep(0.25)


def roll_out(bases: list[str], model: str, version: str, *, token: str | None = None) -> list[str]:
    if not bases:
        raise RuntimeError(f"no ready serving endpoint for {model}: nothing to roll out to (is the Deployment up?)")
    done = []
    for base in bases:
        done.append(load(base, model, version, token=token))
        confirm(base, model, version, token=token)
    return done
