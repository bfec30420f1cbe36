"""Open Inference Protocol (KServe v2) REST: parse infer requests, build responses.

Validation is hand-written on purpose: pydantic over a data array of thousands of
numbers costs more than the prediction itself, while numpy checks shape and dtype
of the whole array in one call. Every rejection is a ``ProtocolError`` with a 4xx
status and a reason the client can act on.
"""

from __future__ import annotations

import math
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
PREDICT_OUTPUT = "predict"


class ProtocolError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class InferRequest:
    rows: np.ndarray  # float64, shape (n_rows, n_features)
    request_id: str | None


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


def parse_infer_request(body: bytes, n_features: int) -> InferRequest:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _bad(f"body is not valid JSON: {exc}") from None
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
    missing = [field for field in ("name", "shape", "datatype", "data") if field not in tensor]
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

    data = tensor["data"]
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
    rows = array.reshape(shape).astype(np.float64, copy=False)
    if not np.isfinite(rows).all():
        raise _bad("inputs[0].data holds values that are not finite")

    outputs = payload.get("outputs")
    if outputs is not None:
        if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
            raise _bad("'outputs' must be a list of objects")
        unknown = [o.get("name") for o in outputs if o.get("name") != PREDICT_OUTPUT]
        if unknown:
            raise _bad(f"unknown outputs {unknown!r}: this model has only {PREDICT_OUTPUT!r}")

    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise _bad("'id' must be a string")
    return InferRequest(rows=rows, request_id=request_id)


def output_datatype(predictions: np.ndarray) -> str:
    kind = predictions.dtype.kind
    if kind == "b":
        return "BOOL"
    if kind in "iu":
        return "INT64"
    if kind == "f":
        return "FP64"
    return "BYTES"


def infer_response(model_name: str, model_version: str, request_id: str | None, predictions: np.ndarray) -> bytes:
    datatype = output_datatype(predictions)
    data: Any = predictions if datatype != "BYTES" else [str(value) for value in predictions]
    response: dict[str, Any] = {
        "model_name": model_name,
        "model_version": model_version,
        "outputs": [{"name": PREDICT_OUTPUT, "shape": [len(predictions)], "datatype": datatype, "data": data}],
    }
    if request_id is not None:
        response["id"] = request_id
    return orjson.dumps(response, option=orjson.OPT_SERIALIZE_NUMPY)
