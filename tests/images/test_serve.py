"""The model server, run for real as a subprocess on loopback, spoken to over HTTP."""

from __future__ import annotations

import hashlib
import shutil
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import orjson
import pytest
import sklearn
import xgboost

from .conftest import iris, HEALTHCHECK, SERVER, Server, base_env, launch_server, run_train, wait_until
from tests.loopback import Moto

StartServer = Callable[..., Server]


def latest_uri(models: Path) -> str:
    return f"{models.as_uri()}/iris/LATEST"


def promoted_model(models: Path) -> Any:
    version = (models / "iris" / "LATEST").read_text().strip()
    return joblib.load(models / "iris" / version / "model.joblib")


def infer_body(rows: list[list[float]], **extra: Any) -> bytes:
    tensor = {"name": "input-0", "shape": [len(rows), len(rows[0])], "datatype": "FP64", "data": rows}
    return orjson.dumps({"inputs": [tensor], **extra})


@pytest.fixture(scope="module")
def server(trained_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One two-worker server for the read-only tests, with a small body limit to test 413."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    running = launch_server(latest_uri(trained_models), log, env=base_env(MAX_BODY_BYTES="65536"))
    yield running
    assert running.stop() == 0


# --- the protocol, happy paths --------------------------------------------------------


def test_live_and_ready(server: Server) -> None:
    assert server.get("/v2/health/live").json() == {"live": True}
    assert server.get("/v2/health/ready").json() == {"ready": True}
    assert server.get("/v2/models/iris/ready").status_code == 200


def test_server_metadata(server: Server) -> None:
    body = server.get("/v2").json()
    assert body["name"] and body["version"] and body["extensions"] == ["binary_tensor_data"]


def test_model_metadata_describes_the_tensors(server: Server, trained_models: Path) -> None:
    version = (trained_models / "iris" / "LATEST").read_text().strip()
    body = server.get("/v2/models/iris").json()
    assert body["name"] == "iris"
    assert body["versions"] == [version]
    assert body["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}]
    assert body["outputs"] == [{"name": "predict", "datatype": "INT64", "shape": [-1]}]


def test_single_row_infer_matches_the_model_and_echoes_id(server: Server, trained_models: Path) -> None:
    row = [6.7, 3.0, 5.2, 2.3]
    response = server.post("/v2/models/iris/infer", content=infer_body([row], id="req-1"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == "req-1"
    assert body["model_name"] == "iris"
    assert body["model_version"] == (trained_models / "iris" / "LATEST").read_text().strip()
    expected = promoted_model(trained_models).predict(np.array([row])).tolist()
    assert body["outputs"] == [{"name": "predict", "shape": [1], "datatype": "INT64", "data": expected}]


def test_batch_of_256_rows_matches_in_process_predict(server: Server, trained_models: Path) -> None:
    rows = np.resize(iris().data, (256, 4))
    flat = {"inputs": [{"name": "x", "shape": [256, 4], "datatype": "FP32", "data": rows.ravel().tolist()}]}
    response = server.post("/v2/models/iris/infer", content=orjson.dumps(flat))
    assert response.status_code == 200, response.text
    output = response.json()["outputs"][0]
    assert output["shape"] == [256]
    assert output["data"] == promoted_model(trained_models).predict(rows).tolist()


def test_versioned_infer_path(server: Server, trained_models: Path) -> None:
    version = (trained_models / "iris" / "LATEST").read_text().strip()
    ok = server.post(f"/v2/models/iris/versions/{version}/infer", content=infer_body([[5.1, 3.5, 1.4, 0.2]]))
    assert ok.status_code == 200
    assert server.post("/v2/models/iris/versions/nope/infer", content=infer_body([[5.1, 3.5, 1.4, 0.2]])).status_code == 404


def test_concurrent_requests_each_get_their_own_rows(server: Server, trained_models: Path) -> None:
    """Requests merged into one predict call must be split back correctly."""
    import concurrent.futures

    rows = iris().data[::5]
    expected = promoted_model(trained_models).predict(rows).tolist()

    def one(i: int) -> tuple[int, list[int]]:
        body = httpx.post(f"{server.url}/v2/models/iris/infer", content=infer_body([rows[i].tolist()], id=str(i)), timeout=10).json()
        return int(body["id"]), body["outputs"][0]["data"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        answers = dict(pool.map(one, range(len(rows))))
    assert [answers[i][0] for i in range(len(rows))] == expected


# --- bad input: always a 4xx with a reason ---------------------------------------------

GOOD_TENSOR: dict[str, Any] = {"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1.0, 2.0, 3.0, 4.0]}


def tensor(**changes: Any) -> bytes:
    body = {**GOOD_TENSOR, **changes}
    return orjson.dumps({"inputs": [{k: v for k, v in body.items() if v is not None}]})


def without(field: str) -> bytes:
    return orjson.dumps({"inputs": [{k: v for k, v in GOOD_TENSOR.items() if k != field}]})


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        pytest.param(b"{not json", 400, "not valid JSON", id="not-json"),
        pytest.param(b"[1, 2]", 400, "JSON object", id="json-array"),
        pytest.param(b"{}", 400, "'inputs'", id="no-inputs"),
        pytest.param(orjson.dumps({"inputs": []}), 400, "'inputs'", id="empty-inputs"),
        pytest.param(without("data"), 400, "missing data", id="missing-data"),
        pytest.param(without("shape"), 400, "missing shape", id="missing-shape"),
        pytest.param(without("datatype"), 400, "missing datatype", id="missing-datatype"),
        pytest.param(without("name"), 400, "missing name", id="missing-name"),
        pytest.param(tensor(shape=[1, 3], data=[1.0, 2.0, 3.0]), 400, "4 features", id="wrong-feature-count"),
        pytest.param(tensor(shape=[4]), 400, "shape must be", id="one-dimensional-shape"),
        pytest.param(tensor(shape=[1, -4]), 400, "shape must be", id="negative-shape"),
        pytest.param(tensor(shape=[2, 4]), 400, "has 4 values but shape [2, 4] needs 8", id="data-shorter-than-shape"),
        pytest.param(tensor(data=[[1.0, 2.0], [3.0]]), 400, "ragged", id="ragged-data"),
        pytest.param(tensor(datatype="FLOAT"), 400, "not a v2 datatype", id="unknown-datatype"),
        pytest.param(tensor(datatype="BYTES"), 400, "not supported", id="bytes-datatype"),
        pytest.param(tensor(data=["a", "b", "c", "d"]), 400, "does not hold FP64", id="strings-as-fp64"),
        pytest.param(tensor(datatype="INT32"), 400, "does not hold INT32", id="floats-as-int32"),
        pytest.param(tensor(data=[1.0, None, 3.0, 4.0]), 400, "does not hold FP64", id="null-value"),
        pytest.param(orjson.dumps({"inputs": [GOOD_TENSOR, GOOD_TENSOR]}), 400, "one input tensor", id="two-inputs"),
        pytest.param(orjson.dumps({"inputs": [GOOD_TENSOR], "outputs": [{"name": "proba"}]}), 400, "unknown outputs", id="unknown-output"),
        pytest.param(b"x" * 70_000, 413, "over the limit", id="oversized-body"),
    ],
)
def test_bad_input_gets_a_4xx_with_the_reason(server: Server, body: bytes, status: int, reason: str) -> None:
    response = server.post("/v2/models/iris/infer", content=body)
    assert response.status_code == status, response.text
    assert reason in response.json()["error"]


def test_oversized_chunked_body_without_length_gets_413(server: Server) -> None:
    response = server.post("/v2/models/iris/infer", content=iter([b"x" * 40_000, b"x" * 40_000]))
    assert response.status_code == 413, response.text


def test_40_mb_body_gets_a_413_the_client_can_read(server: Server) -> None:
    response = server.post("/v2/models/iris/infer", content=b"x" * 40_000_000)
    assert response.status_code == 413, response.text
    assert "body of 40000000 bytes is over the limit of 65536" in response.json()["error"]
    assert response.headers["connection"] == "close"


def test_40_mb_body_is_read_to_its_end_before_the_413_so_the_upload_is_not_reset(server: Server) -> None:
    """A plain client that sends everything before reading: the server must not close on unread bytes."""
    body = b"x" * 40_000_000
    head = f"POST /v2/models/iris/infer HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(head.encode() + body)  # a reset connection raises here
        response = b""
        while chunk := conn.recv(65536):  # and the server closes cleanly after its answer
            response += chunk
    assert response.startswith(b"HTTP/1.1 413 "), response
    assert b"over the limit" in response


def test_oversized_body_announced_with_expect_100_continue_is_refused_before_it_is_sent(server: Server) -> None:
    head = "POST /v2/models/iris/infer HTTP/1.1\r\nHost: test\r\nContent-Length: 40000000\r\nExpect: 100-continue\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(head.encode())
        response = b""
        while chunk := conn.recv(65536):
            response += chunk
    assert response.startswith(b"HTTP/1.1 413 "), response


def test_unknown_model_gets_404(server: Server) -> None:
    response = server.post("/v2/models/nope/infer", content=tensor())
    assert response.status_code == 404
    assert "unknown model 'nope'" in response.json()["error"]
    assert server.get("/v2/models/nope").status_code == 404


def test_metrics_count_requests_across_workers(start_server: StartServer, trained_models: Path) -> None:
    server = start_server(latest_uri(trained_models), workers=2)
    for _ in range(20):
        assert server.post("/v2/models/iris/infer", content=infer_body([[5.1, 3.5, 1.4, 0.2]])).status_code == 200
    for _ in range(3):
        assert server.post("/v2/models/iris/infer", content=b"{").status_code == 400
    metrics = server.get("/metrics").text
    assert 'inference_requests_total{code="200",model="iris"} 20.0' in metrics
    assert 'inference_requests_total{code="400",model="iris"} 3.0' in metrics
    assert 'inference_rows_total{model="iris"} 20.0' in metrics


# --- authentication: a bearer token when MLOPS_AUTH_TOKEN is set ------------------------

TOKEN = "test-token-Zq8vX2mK4pL7"
REALM = 'Bearer realm="mlops-serve"'
ONE_IRIS_ROW = [[5.1, 3.5, 1.4, 0.2]]


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def authed_server(trained_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server as a public endpoint runs it: the token from a Secret, with its trailing newline."""
    log = tmp_path_factory.mktemp("authed") / "server.log"
    running = launch_server(latest_uri(trained_models), log, env=base_env(MLOPS_AUTH_TOKEN=TOKEN + "\n"))
    yield running
    assert running.stop() == 0


# Without a token, anyone on the internet could use the model on a public load balancer.
PROTECTED = [
    pytest.param("POST", "/v2/models/iris/infer", id="infer"),
    pytest.param("POST", "/v2/models/iris/versions/any/infer", id="versioned-infer"),
    pytest.param("GET", "/v2", id="server-metadata"),
    pytest.param("GET", "/v2/models/iris", id="model-metadata"),
    pytest.param("GET", "/v2/models/iris/ready", id="model-ready"),
    pytest.param("GET", "/v2/models/iris/versions/any", id="version-metadata"),
    pytest.param("POST", "/v2/repository/models/iris/load", id="repository-load"),
    pytest.param("GET", "/no-such-path", id="unknown-path"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_with_a_token_every_other_endpoint_refuses_a_request_without_one(authed_server: Server, method: str, path: str) -> None:
    response = httpx.request(method, authed_server.url + path, content=infer_body(ONE_IRIS_ROW), timeout=10)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == REALM
    assert response.json() == {"error": "this endpoint needs an Authorization: Bearer <token> header"}


@pytest.mark.parametrize("path", ["/v2/health/live", "/v2/health/ready", "/metrics"])
def test_with_a_token_probes_and_metrics_stay_open(authed_server: Server, path: str) -> None:
    # The kubelet's probes and the Prometheus scrape send no token; a 401 would restart every pod.
    assert authed_server.get(path).status_code == 200


def test_with_a_token_a_wrong_token_gets_401_invalid_token(authed_server: Server) -> None:
    response = authed_server.post("/v2/models/iris/infer", content=infer_body(ONE_IRIS_ROW), headers=bearer(TOKEN[:-1]))
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == f'{REALM}, error="invalid_token"'
    assert response.json() == {"error": "the bearer token is not valid"}


@pytest.mark.parametrize("header", [f"Basic {TOKEN}", TOKEN, "Bearer"])
def test_with_a_token_another_scheme_gets_401_invalid_request(authed_server: Server, header: str) -> None:
    response = authed_server.post("/v2/models/iris/infer", content=infer_body(ONE_IRIS_ROW), headers={"Authorization": header})
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == f'{REALM}, error="invalid_request"'
    assert response.json() == {"error": "the Authorization header must be 'Bearer <token>'"}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])  # the scheme is case-insensitive (RFC 7235)
def test_with_a_token_the_right_token_gets_the_models_answer(authed_server: Server, trained_models: Path, scheme: str) -> None:
    headers = {"Authorization": f"{scheme} {TOKEN}"}
    response = authed_server.post("/v2/models/iris/infer", content=infer_body(ONE_IRIS_ROW), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["data"] == promoted_model(trained_models).predict(np.array(ONE_IRIS_ROW)).tolist()
    assert authed_server.get("/v2/models/iris").status_code == 401
    assert httpx.get(f"{authed_server.url}/v2/models/iris", headers=headers, timeout=10).status_code == 200


def test_without_a_token_an_authorization_header_is_ignored(server: Server) -> None:
    response = server.post("/v2/models/iris/infer", content=infer_body(ONE_IRIS_ROW), headers=bearer("anything"))
    assert response.status_code == 200, response.text


def test_an_empty_token_refuses_to_start(trained_models: Path) -> None:
    # An empty Secret must not silently mean "no authentication".
    env = base_env(MODEL_URI=latest_uri(trained_models), MLOPS_AUTH_TOKEN=" \n")
    result = subprocess.run([sys.executable, str(SERVER)], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "serve: error: MLOPS_AUTH_TOKEN is set but empty: give it the bearer token, or unset it to serve without one"
    )


# --- the binary tensor data extension -------------------------------------------------

BINARY_HEADER = "Inference-Header-Content-Length"
# Each datatype's element as the extension lays it out: little-endian, BOOL one byte.
WIRE_DTYPES = {
    "BOOL": "?", "UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8",
    "INT8": "<i1", "INT16": "<i2", "INT32": "<i4", "INT64": "<i8", "FP16": "<f2", "FP32": "<f4", "FP64": "<f8",
}  # fmt: skip


def binary_body(header: dict[str, Any], raw: bytes) -> tuple[bytes, dict[str, str]]:
    """The JSON header, then the raw tensor bytes; the HTTP header says where the JSON ends."""
    json_header = orjson.dumps(header)
    return json_header + raw, {BINARY_HEADER: str(len(json_header))}


def binary_infer(wire: np.ndarray, datatype: str, **extra: Any) -> tuple[bytes, dict[str, str]]:
    raw = wire.tobytes()
    tensor = {"name": "input-0", "shape": list(wire.shape), "datatype": datatype, "parameters": {"binary_data_size": len(raw)}}
    return binary_body({"inputs": [tensor], **extra}, raw)


def split_binary_response(response: Any) -> tuple[dict[str, Any], bytes]:
    json_length = int(response.headers[BINARY_HEADER])
    return orjson.loads(response.content[:json_length]), response.content[json_length:]


def test_binary_256_rows_in_and_out_match_in_process_predict(server: Server, trained_models: Path) -> None:
    rows = np.resize(iris().data, (256, 4))
    body, headers = binary_infer(rows.astype("<f8"), "FP64", id="bin", parameters={"binary_data_output": True})
    response = server.post("/v2/models/iris/infer", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    header, raw = split_binary_response(response)
    assert header["id"] == "bin"
    assert header["outputs"] == [{"name": "predict", "shape": [256], "datatype": "INT64", "parameters": {"binary_data_size": 256 * 8}}]
    assert np.frombuffer(raw, "<i8").tolist() == promoted_model(trained_models).predict(rows).tolist()


def test_binary_input_gets_the_same_json_answer_as_json_input(server: Server) -> None:
    rows = iris().data[::10]
    body, headers = binary_infer(rows.astype("<f8"), "FP64")
    binary = server.post("/v2/models/iris/infer", content=body, headers=headers)
    plain = server.post("/v2/models/iris/infer", content=infer_body(rows.tolist()))
    assert binary.status_code == plain.status_code == 200, binary.text
    assert binary.headers["content-type"] == "application/json"
    assert BINARY_HEADER not in binary.headers
    assert binary.json() == plain.json()


@pytest.mark.parametrize(
    ("request_fields", "binary_output"),
    [
        pytest.param({}, False, id="json-by-default"),
        pytest.param({"parameters": {"binary_data_output": True}}, True, id="request-asks"),
        pytest.param({"outputs": [{"name": "predict", "parameters": {"binary_data": True}}]}, True, id="output-asks"),
        pytest.param({"parameters": {"binary_data_output": True}, "outputs": [{"name": "predict"}]}, True, id="output-inherits"),
        pytest.param(
            {"parameters": {"binary_data_output": True}, "outputs": [{"name": "predict", "parameters": {"binary_data": False}}]},
            False,
            id="output-overrides",
        ),
    ],
)
def test_output_is_binary_when_asked(server: Server, trained_models: Path, request_fields: dict[str, Any], binary_output: bool) -> None:
    rows = iris().data[::10]
    response = server.post("/v2/models/iris/infer", content=infer_body(rows.tolist(), **request_fields))
    assert response.status_code == 200, response.text
    expected = promoted_model(trained_models).predict(rows).tolist()
    if binary_output:
        header, raw = split_binary_response(response)
        assert header["outputs"][0]["parameters"] == {"binary_data_size": len(raw)}
        assert np.frombuffer(raw, "<i8").tolist() == expected
    else:
        assert BINARY_HEADER not in response.headers
        assert response.json()["outputs"][0]["data"] == expected


@pytest.mark.parametrize("datatype", sorted(WIRE_DTYPES))
def test_each_numeric_datatype_is_read_in_its_binary_layout(server: Server, trained_models: Path, datatype: str) -> None:
    features = np.resize(iris().data, (32, 4))
    values = (features > 3) if datatype == "BOOL" else np.round(features * 10)  # whole numbers fit every datatype
    wire = values.astype(WIRE_DTYPES[datatype])
    body, headers = binary_infer(wire, datatype)
    response = server.post("/v2/models/iris/infer", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["data"] == promoted_model(trained_models).predict(wire.astype(np.float64)).tolist()


def fp64_input(shape: list[int], size: Any, **tensor_fields: Any) -> dict[str, Any]:
    tensor = {"name": "x", "shape": shape, "datatype": "FP64", "parameters": {"binary_data_size": size}, **tensor_fields}
    return {"inputs": [tensor]}


ONE_ROW = np.array([[5.1, 3.5, 1.4, 0.2]], dtype="<f8").tobytes()  # 32 bytes


def with_header(body_and_headers: tuple[bytes, dict[str, str]], value: str) -> tuple[bytes, dict[str, str]]:
    return body_and_headers[0], {BINARY_HEADER: value}


@pytest.mark.parametrize(
    ("body_and_headers", "reason"),
    [
        pytest.param(with_header(binary_body(fp64_input([1, 4], 32), ONE_ROW), "abc"), "must be a number of bytes", id="header-not-a-number"),
        pytest.param(with_header(binary_body(fp64_input([1, 4], 32), ONE_ROW), "-5"), "must be a number of bytes", id="header-negative"),
        pytest.param(with_header(binary_body(fp64_input([1, 4], 32), ONE_ROW), "100000"), "larger than the body", id="header-past-the-body"),
        pytest.param(with_header(binary_body(fp64_input([1, 4], 32), ONE_ROW), "9" * 5000), "larger than the body", id="header-huge"),
        pytest.param(with_header(binary_body(fp64_input([1, 4], 32), ONE_ROW), "20"), "not valid JSON", id="header-cuts-the-json"),
        pytest.param((orjson.dumps(fp64_input([1, 4], 32)) + ONE_ROW, {}), "needs the Inference-Header-Content-Length", id="no-header"),
        pytest.param((orjson.dumps(fp64_input([1, 4], 0)), {}), "needs the Inference-Header-Content-Length", id="no-header-no-data"),
        pytest.param(binary_body(fp64_input([1, 4], 40), ONE_ROW), "binary_data_size is 40 but 32 bytes follow", id="size-past-the-data"),
        pytest.param(binary_body(fp64_input([1, 4], 24), ONE_ROW), "binary_data_size is 24 but 32 bytes follow", id="size-short-of-the-data"),
        pytest.param(binary_body(fp64_input([2, 4], 32), ONE_ROW), "32 bytes of binary data but shape [2, 4] of FP64 needs 64", id="size-not-the-shape"),
        pytest.param(binary_body({"inputs": [{**GOOD_TENSOR}]}, ONE_ROW), "32 bytes follow the JSON header but no input", id="bytes-nobody-declared"),
        pytest.param(binary_body(fp64_input([1, 4], 32, data=[1, 2, 3, 4]), ONE_ROW), "both data and", id="data-and-binary"),
        pytest.param(binary_body(fp64_input([1, 4], -32), ONE_ROW), "non-negative integer", id="negative-size"),
        pytest.param(binary_body(fp64_input([1, 4], "32"), ONE_ROW), "non-negative integer", id="size-as-string"),
        pytest.param(binary_body({"inputs": [{**GOOD_TENSOR, "parameters": 1}]}, b""), "inputs[0].parameters must be an object", id="parameters-not-object"),
        pytest.param(binary_body(fp64_input([1, 4], 32), np.array([[1.0, np.nan, 2.0, 3.0]]).tobytes()), "not finite", id="nan"),
        pytest.param(
            binary_body({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "BOOL", "parameters": {"binary_data_size": 4}}]}, b"\0\1\2\1"),
            "other than 0 and 1",
            id="bool-byte-2",
        ),
        pytest.param(
            binary_body({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "BYTES", "parameters": {"binary_data_size": 4}}]}, b"\0" * 4),
            "not supported",
            id="bytes-input",
        ),
        pytest.param(binary_body({"inputs": [GOOD_TENSOR], "parameters": {"binary_data_output": "yes"}}, b""), "must be true or false", id="output-flag-not-bool"),
    ],
)
def test_malformed_binary_request_gets_a_400_with_the_reason(
    server: Server, body_and_headers: tuple[bytes, dict[str, str]], reason: str
) -> None:
    body, headers = body_and_headers
    response = server.post("/v2/models/iris/infer", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert reason in response.json()["error"]


def test_string_classes_come_back_as_length_prefixed_binary_bytes(start_server: StartServer, tmp_path: Path) -> None:
    data = iris()
    csv = "a,b,c,d,species\n" + "".join(f"{','.join(map(str, row))},{data.target_names[t]}\n" for row, t in zip(data.data, data.target))
    (tmp_path / "iris.csv").write_text(csv)
    models = tmp_path / "models"
    trained = run_train("--data", (tmp_path / "iris.csv").as_uri(), "--label", "species", "--model", "iris", "--output", models.as_uri())
    assert trained.returncode == 0, trained.stderr
    server = start_server(latest_uri(models), workers=1)
    rows = data.data[::25]
    response = server.post("/v2/models/iris/infer", content=infer_body(rows.tolist(), parameters={"binary_data_output": True}))
    assert response.status_code == 200, response.text
    header, raw = split_binary_response(response)
    assert header["outputs"][0]["datatype"] == "BYTES"
    elements = []
    while raw:
        (length,) = struct.unpack_from("<I", raw)
        elements.append(raw[4 : 4 + length].decode())
        raw = raw[4 + length :]
    assert elements == promoted_model(models).predict(rows).tolist()


# --- loading, readiness, shutdown -------------------------------------------------------


def test_serves_the_promoted_model_from_s3(start_server: StartServer, moto: Moto, bucket: str) -> None:
    trained = run_train("--data", "builtin:iris", "--model", "iris", "--output", f"s3://{bucket}/models", env=moto.env())
    assert trained.returncode == 0, trained.stderr
    server = start_server(f"s3://{bucket}/models/iris/LATEST", env=moto.env())
    version = moto.client("s3").get_object(Bucket=bucket, Key="models/iris/LATEST")["Body"].read().decode().strip()
    response = server.post("/v2/models/iris/infer", content=infer_body([[5.1, 3.5, 1.4, 0.2]]))
    assert response.status_code == 200
    assert response.json()["model_version"] == version


def test_not_ready_until_the_model_exists_then_ready(start_server: StartServer, tmp_path: Path) -> None:
    models = tmp_path / "models"
    # One worker, so every probe below asks the same process.
    server = start_server(latest_uri(models), workers=1, wait_for="/v2/health/live")
    ready = server.get("/v2/health/ready")
    assert ready.status_code == 503
    assert "LATEST" in ready.json()["reason"]
    assert server.post("/v2/models/iris/infer", content=infer_body([[5.1, 3.5, 1.4, 0.2]])).status_code == 503

    trained = run_train("--data", "builtin:iris", "--model", "iris", "--output", models.as_uri())
    assert trained.returncode == 0, trained.stderr
    wait_until(lambda: server.answers("/v2/health/ready", 200), "the server to load the newly promoted model")
    assert server.post("/v2/models/iris/infer", content=infer_body([[5.1, 3.5, 1.4, 0.2]])).status_code == 200


def test_sha256_mismatch_is_refused(start_server: StartServer, trained_models: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "models"
    shutil.copytree(trained_models, tampered)
    version = (tampered / "iris" / "LATEST").read_text().strip()
    with (tampered / "iris" / version / "model.joblib").open("ab") as model_file:
        model_file.write(b"\0")
    server = start_server(latest_uri(tampered), workers=1, wait_for="/v2/health/live")
    ready = server.get("/v2/health/ready")
    assert ready.status_code == 503
    assert "sha256 mismatch" in ready.json()["reason"]
    assert server.post("/v2/models/iris/infer", content=infer_body([[5.1, 3.5, 1.4, 0.2]])).status_code == 503
    assert server.answers("/v2/health/live", 200)


def recorded_as(trained_models: Path, tmp_path: Path, libraries: dict[str, str | None]) -> tuple[Path, str]:
    """A copy of the trained models whose promoted metadata records other libraries (None drops one)."""
    models = tmp_path / "models"
    shutil.copytree(trained_models, models)
    version_dir = models / "iris" / (models / "iris" / "LATEST").read_text().strip()
    metadata = orjson.loads((version_dir / "metadata.json").read_bytes())
    for library, version in libraries.items():
        if version is None:
            metadata["libraries"].pop(library)
        else:
            metadata["libraries"][library] = version
    (version_dir / "metadata.json").write_bytes(orjson.dumps(metadata))
    return models, version_dir.as_uri()


MISMATCH_ADVICE = "a pickle loads only with the versions it was made with: serve it from a server image with those, or retrain it with this one's"


@pytest.mark.parametrize(
    ("libraries", "problems"),
    [
        pytest.param({"scikit-learn": "1.8.0"}, f"scikit-learn 1.8.0 (this server has {sklearn.__version__})", id="scikit-learn"),
        pytest.param({"numpy": "1.26.4"}, f"numpy 1.26.4 (this server has {np.__version__})", id="numpy-major"),
        pytest.param({"xgboost": "9.9.9"}, f"xgboost 9.9.9 (this server has {xgboost.__version__})", id="xgboost"),
        pytest.param(
            {"scikit-learn": "1.8.0", "numpy": None},
            f"numpy not recorded, scikit-learn 1.8.0 (this server has {sklearn.__version__})",
            id="two-at-once",
        ),
    ],
)
def test_a_model_of_other_library_versions_is_refused_before_ready(
    start_server: StartServer, trained_models: Path, tmp_path: Path, libraries: dict[str, str | None], problems: str
) -> None:
    models, version_uri = recorded_as(trained_models, tmp_path, libraries)
    server = start_server(latest_uri(models), workers=1, wait_for="/v2/health/live")
    reason = f"library mismatch for {version_uri}: {problems}; {MISMATCH_ADVICE}"
    assert server.get("/v2/health/ready").json() == {"ready": False, "reason": reason}
    assert server.post("/v2/models/iris/infer", content=infer_body([[5.1, 3.5, 1.4, 0.2]])).status_code == 503
    assert f"model not loaded: {reason}" in server.log.read_text()


def test_a_model_of_the_same_numpy_major_is_served(start_server: StartServer, trained_models: Path, tmp_path: Path) -> None:
    same_major = f"{np.__version__.split('.')[0]}.0.0"
    assert same_major != np.__version__
    models, _ = recorded_as(trained_models, tmp_path, {"numpy": same_major, "python": "3.10.0", "scipy": "0.1"})
    server = start_server(latest_uri(models), workers=1)
    assert server.post("/v2/models/iris/infer", content=infer_body([[5.1, 3.5, 1.4, 0.2]])).status_code == 200


def test_verified_bytes_that_are_no_model_are_refused_without_a_crash(start_server: StartServer, tmp_path: Path) -> None:
    version = tmp_path / "models" / "iris" / "v1"
    version.mkdir(parents=True)
    (version / "model.joblib").write_bytes(b"not a pickle")
    metadata = {
        "model": "iris",
        "version": "v1",
        "sha256": hashlib.sha256(b"not a pickle").hexdigest(),
        "libraries": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
    }
    (version / "metadata.json").write_bytes(orjson.dumps(metadata))
    server = start_server(version.as_uri(), workers=1, wait_for="/v2/health/live")
    ready = server.get("/v2/health/ready")
    assert ready.status_code == 503
    assert "cannot unpickle" in ready.json()["reason"]


def test_container_healthcheck_follows_readiness(start_server: StartServer, trained_models: Path, tmp_path: Path) -> None:
    ready_server = start_server(latest_uri(trained_models), workers=1)
    unready_server = start_server(latest_uri(tmp_path / "empty"), workers=1, wait_for="/v2/health/live")

    def healthcheck(port: int) -> int:
        return subprocess.run([sys.executable, str(HEALTHCHECK)], env=base_env(PORT=str(port)), timeout=30).returncode

    assert healthcheck(ready_server.port) == 0
    assert healthcheck(unready_server.port) == 1


def test_sigterm_finishes_the_request_in_flight_and_exits_zero(start_server: StartServer, trained_models: Path) -> None:
    server = start_server(latest_uri(trained_models), workers=2)
    body = infer_body([[5.1, 3.5, 1.4, 0.2]], id="in-flight")
    head = (
        "POST /v2/models/iris/infer HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(head)
        # The server says "100 Continue" only once the app is reading this request's body,
        # so from here on the request is in flight inside a worker.
        assert conn.recv(1024).startswith(b"HTTP/1.1 100 Continue")
        server.process.send_signal(signal.SIGTERM)
        conn.sendall(body)
        response = b""
        while chunk := conn.recv(65536):
            response += chunk
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK", response
    assert orjson.loads(rest.split(b"\r\n\r\n", 1)[1])["id"] == "in-flight"
    assert server.process.wait(timeout=60) == 0
