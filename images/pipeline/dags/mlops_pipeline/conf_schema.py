"""The JSON schema of a run's conf (Airflow `Params`): what a REST call may set, refused at trigger time.

    {"data": null | "builtin:<name>" | "s3://bucket/key",
     "data_version": null | an S3 version id,
     "params": {<the project's train.params, each with its default's JSON type>},
     "reproduce": null | a version id}

Airflow validates a run's conf against these before the run exists: a bad one is answered
400 by the REST API, and refused by `airflow dags trigger` and `airflow dags test`.
"""

from __future__ import annotations

from typing import Any

from mlops_pipeline.errors import Refused

DATA_PATTERN = r"^(builtin:[A-Za-z0-9_]+|s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^?#]+)$"
"""builtin:<name> or s3://<bucket>/<key>; a version is data_version's, not a query on the URI."""
S3_VERSION_PATTERN = r"^[A-Za-z0-9._+/=-]{1,1024}$"
"""S3 version ids are opaque, URL-ready strings of at most 1024 bytes."""
MODEL_VERSION_PATTERN = r"^[0-9]{8}T[0-9]{12}Z-[0-9a-f]{8}$"
"""mlops_training's version id: YYYYmmddTHHMMSSffffffZ-<first 8 hex of the model's sha256>."""


def json_type(value: str | int | float | bool) -> str:
    """A hyperparameter's JSON type, from its default (bool before int: True is an int in Python)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def conf_schemas(params: dict[str, str | int | float | bool]) -> dict[str, dict[str, Any]]:
    """Each conf key's default, description and schema (Param(default, description, **schema))."""
    return {
        "data": {
            "default": None,
            "description": "what to train on instead of train.data: builtin:<name> or s3://bucket/key",
            "schema": {"type": ["null", "string"], "pattern": DATA_PATTERN},
        },
        "data_version": {
            "default": None,
            "description": "the S3 version id of the data to train on (default: the current one, pinned by validate_data)",
            "schema": {"type": ["null", "string"], "pattern": S3_VERSION_PATTERN},
        },
        "params": {
            "default": {},
            "description": "hyperparameters, each one of the project's train.params; the others keep their defaults",
            "schema": {
                "type": "object",
                "additionalProperties": False,
                "properties": {name: {"type": json_type(value)} for name, value in sorted(params.items())},
            },
        },
        "reproduce": {
            "default": None,
            "description": "a stored version to train again with its own image, data version, parameters and seed",
            "schema": {"type": ["null", "string"], "pattern": MODEL_VERSION_PATTERN},
        },
    }


def check_conf(conf: dict[str, Any], params: dict[str, Any]) -> None:
    """What a schema per key can't see, refused by validate_data: an unknown key, a reproduction
    given data or parameters of its own, a data version for builtin data."""
    unknown = sorted(set(conf) - set(conf_schemas({})))
    if unknown:
        raise Refused(f"unknown conf key(s) {', '.join(unknown)}: a run takes {', '.join(sorted(conf_schemas({})))}")
    if params["reproduce"]:
        given = [key for key in ("data", "data_version", "params") if params[key]]
        if given:
            raise Refused(f"reproduce takes the version's own data, parameters and seed: leave out {', '.join(given)}")
