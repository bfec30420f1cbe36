"""Open Inference Protocol (KServe v2) REST: parse infer requests, build responses.

Validation is hand-written on purpose: pydantic over a data array of thousands of
numbers costs more than the prediction itself, while numpy checks shape and dtype
of the whole array in one call. Every rejection is a ``ProtocolError`` with a 4xx
status and a reason the client can act on.

Also the binary tensor data extension (as Triton and KServe define it), which v2
clients such as tritonclient use by default: the body is a JSON header of N bytes,
N given by the ``Inference-Header-Content-Length`` HTTP header, followed by the raw
bytes of each input that declares ``parameters.binary_data_size`` instead of
``data``, in input order. Raw tensors are row-major and little-endian; a BYTES
element is its length as 4 bytes little-endian, then its bytes. Responses carry
their outputs the same way when the request asks for it.

And the model repository extension's load request (Triton's, which KServe's v2 follows),
which takes no parameters here.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

# KServe v2 tensor datatypes, mapped to the numpy kinds their JSON data may hold.
NUMERIC_DATATYPES: dict[str, str] = {
    "BOOL": "b",
    **{f"UINT{bits}": "iu" for bits in (8, 16, 32, 64)},
    **{f"INT{bits}": "iu" for bits in (8, 16, 32, 64)},
    **{f"FP{bits}": "iuf" for bits in (16, 32, 64)},
}
KNOWN_DATATYPES = {*NUMERIC_DATATYPES, "BYTES"}
# The layout of one element of each numeric datatype in binary tensor data.
BINARY_DTYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype("?"),
    **{f"UINT{bits}": np.dtype(f"<u{bits // 8}") for bits in (8, 16, 32, 64)},
    **{f"INT{bits}": np.dtype(f"<i{bits // 8}") for bits in (8, 16, 32, 64)},
    **{f"FP{bits}": np.dtype(f"<f{bits // 8}") for bits in (16, 32, 64)},
}
PREDICT_OUTPUT = "predict"
BINARY_HEADER = "Inference-Header-Content-Length"


class ProtocolError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class InferRequest:
    rows: np.ndarray  # float64, shape (n_rows, n_features)
    request_id: str | None
    binary_output: bool  # answer with the output as raw bytes after a JSON header


@dataclass(frozen=True)
class InferResponse:
    body: bytes
    json_length: int | None  # set when raw output bytes follow the JSON: the Inference-Header-Content-Length


def _bad(reason: str) -> ProtocolError:
    return ProtocolError(400, reason)


def _parse_shape(shape: Any, n_features: int) -> tuple[int, int]:
    if (
        not isinstance(shape, list)
        or len(shape) != 2
        or not all(isinstance(dim, int) and not isinstance(dim, bool) and dim >= 0 for dim in shape)
    ):
        raise _bad(f"inputs[0].shape must be [rows, {n_features}] with non-negative integers, got {shape!r}")
    rows, columns = shape
    if columns != n_features:
        raise _bad(f"inputs[0].shape {shape} does not match the model: it takes {n_features} features per row")
    if rows == 0:
        raise _bad("inputs[0].shape has no rows")
    return rows, columns


def _json_length(body: bytes, header_length: str | None) -> int:
    """Where the JSON ends: at Inference-Header-Content-Length, or with the body."""
    if header_length is None:
        return len(body)
    if not (header_length.isascii() and header_length.isdigit()):
        raise _bad(f"{BINARY_HEADER} must be a number of bytes, got {header_length!r}")
    # The length check comes first: int() refuses strings of thousands of digits.
    if len(header_length) > len(str(len(body))) or int(header_length) > len(body):
        raise _bad(f"{BINARY_HEADER} {header_length} is larger than the body, {len(body)} bytes")
    return int(header_length)


def _parameters(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(f"{where} must be an object")
    return value


def _flag(parameters: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = parameters.get(key, default)
    if not isinstance(value, bool):
        raise _bad(f"{where}.{key} must be true or false, got {value!r}")
    return value


def _binary_data_size(tensor: dict[str, Any]) -> int | None:
    size = _parameters(tensor.get("parameters"), "inputs[0].parameters").get("binary_data_size")
    if size is None:
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _bad(f"inputs[0].parameters.binary_data_size must be a non-negative integer, got {size!r}")
    if "data" in tensor:
        raise _bad("inputs[0] has both data and parameters.binary_data_size: send one of them")
    return size


def _rows_from_json(data: Any, shape: tuple[int, int], datatype: str) -> np.ndarray:
    if not isinstance(data, list):
        raise _bad("inputs[0].data must be a list")
    try:
        array = np.asarray(data)
    except ValueError:  # ragged nesting
        raise _bad("inputs[0].data is ragged: nested lists must all have the same length") from None
    if array.dtype.kind not in NUMERIC_DATATYPES[datatype]:
        raise _bad(f"inputs[0].data does not hold {datatype} values")
    expected = math.prod(shape)
    if array.size != expected:
        raise _bad(f"inputs[0].data has {array.size} values but shape {list(shape)} needs {expected}")
    return array.reshape(shape).astype(np.float64, copy=False)


def _rows_from_binary(raw: memoryview, shape: tuple[int, int], datatype: str) -> np.ndarray:
    dtype = BINARY_DTYPES[datatype]
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise _bad(f"inputs[0] has {len(raw)} bytes of binary data but shape {list(shape)} of {datatype} needs {expected}")
    if datatype == "BOOL":
        octets = np.frombuffer(raw, dtype=np.uint8)
        if (octets > 1).any():
            raise _bad("inputs[0] binary BOOL data holds bytes other than 0 and 1")
        return octets.reshape(shape).astype(np.float64)
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(np.float64, copy=False)


def _binary_output_requested(payload: dict[str, Any]) -> bool:
    """An output's parameters.binary_data, else the request's parameters.binary_data_output, else JSON."""
    default = _flag(_parameters(payload.get("parameters"), "parameters"), "binary_data_output", "parameters", False)
    outputs = payload.get("outputs")
    if outputs is None:
        return default
    if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
        raise _bad("'outputs' must be a list of objects")
    unknown = [o.get("name") for o in outputs if o.get("name") != PREDICT_OUTPUT]
    if unknown:
        raise _bad(f"unknown outputs {unknown!r}: this model has only {PREDICT_OUTPUT!r}")
    flags = [
        _flag(_parameters(o.get("parameters"), f"outputs[{i}].parameters"), "binary_data", f"outputs[{i}].parameters", default)
        for i, o in enumerate(outputs)
    ]
    return any(flags) if flags else default


def parse_infer_request(body: bytes, n_features: int, header_length: str | None = None) -> InferRequest:
    """``header_length`` is the request's Inference-Header-Content-Length, if it has one."""
    json_length = _json_length(body, header_length)
    try:
        payload = orjson.loads(memoryview(body)[:json_length])
    except orjson.JSONDecodeError as exc:
        hint = ""
        if header_length is None and b"binary_data_size" in body:  # the usual mistake with binary data
            hint = f"; binary tensor data needs the {BINARY_HEADER} header"
        raise _bad(f"body is not valid JSON: {exc}{hint}") from None
    if not isinstance(payload, dict):
        raise _bad("body must be a JSON object with 'inputs'")
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise _bad("'inputs' must be a non-empty list of tensors")
    if len(inputs) != 1:
        raise _bad(f"this model takes one input tensor of shape [rows, {n_features}], got {len(inputs)}")
    tensor = inputs[0]
    if not isinstance(tensor, dict):
        raise _bad("inputs[0] must be an object with name, shape, datatype and data")
    binary_size = _binary_data_size(tensor)
    required = ("name", "shape", "datatype") if binary_size is not None else ("name", "shape", "datatype", "data")
    missing = [field for field in required if field not in tensor]
    if missing:
        raise _bad(f"inputs[0] is missing {', '.join(missing)}")
    if not isinstance(tensor["name"], str):
        raise _bad("inputs[0].name must be a string")
    shape = _parse_shape(tensor["shape"], n_features)

    datatype = tensor["datatype"]
    if datatype not in KNOWN_DATATYPES:
        raise _bad(f"inputs[0].datatype {datatype!r} is not a v2 datatype ({', '.join(sorted(KNOWN_DATATYPES))})")
    if datatype not in NUMERIC_DATATYPES:
        raise _bad(f"inputs[0].datatype {datatype} is not supported: this model takes numeric features")

    trailing = len(body) - json_length
    if binary_size is None:
        if trailing:
            raise _bad(f"{trailing} bytes follow the JSON header but no input has parameters.binary_data_size")
        rows = _rows_from_json(tensor["data"], shape, datatype)
    elif header_length is None:
        raise _bad(f"inputs[0].parameters.binary_data_size needs the {BINARY_HEADER} header")
    elif binary_size != trailing:
        raise _bad(f"inputs[0].parameters.binary_data_size is {binary_size} but {trailing} bytes follow the JSON header")
    else:
        rows = _rows_from_binary(memoryview(body)[json_length:], shape, datatype)
    if not np.isfinite(rows).all():
        raise _bad("inputs[0] holds values that are not finite")

    binary_output = _binary_output_requested(payload)
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise _bad("'id' must be a string")
    return InferRequest(rows=rows, request_id=request_id, binary_output=binary_output)


def parse_load_request(body: bytes) -> None:
    """The model repository extension's load request: an empty body, or {"parameters": {}}; this
    server's load takes no parameters (Triton's "config" has no meaning for a scikit-learn model)."""
    if not body.strip():
        return
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _bad(f"body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict) or set(payload) - {"parameters"}:
        raise _bad("a load request's body is empty or {\"parameters\": {}}")
    parameters = payload.get("parameters") or {}
    if not isinstance(parameters, dict) or parameters:
        unknown = sorted(parameters) if isinstance(parameters, dict) else parameters
        raise _bad(f"this server's load takes no parameters, got {unknown!r}: it loads the version MODEL_URI names")


def output_datatype(predictions: np.ndarray) -> str:
    kind = predictions.dtype.kind
    if kind == "b":
        return "BOOL"
    if kind in "iu":
        return "INT64"
    if kind == "f":
        return "FP64"
    return "BYTES"


def _raw_output(predictions: np.ndarray, datatype: str) -> bytes:
    if datatype == "BYTES":
        encoded = [str(value).encode() for value in predictions]
        return b"".join(struct.pack("<I", len(element)) + element for element in encoded)
    return predictions.astype(BINARY_DTYPES[datatype], copy=False).tobytes()


def infer_response(
    model_name: str, model_version: str, request_id: str | None, predictions: np.ndarray, binary_output: bool
) -> InferResponse:
    datatype = output_datatype(predictions)
    output: dict[str, Any] = {"name": PREDICT_OUTPUT, "shape": [len(predictions)], "datatype": datatype}
    raw = _raw_output(predictions, datatype) if binary_output else None
    if raw is None:
        output["data"] = predictions if datatype != "BYTES" else [str(value) for value in predictions]
    else:
        output["parameters"] = {"binary_data_size": len(raw)}
    response: dict[str, Any] = {"model_name": model_name, "model_version": model_version, "outputs": [output]}
    if request_id is not None:
        response["id"] = request_id
    header = orjson.dumps(response, option=orjson.OPT_SERIALIZE_NUMPY)
    if raw is None:
        return InferResponse(body=header, json_length=None)
    return InferResponse(body=header + raw, json_length=len(header))
